"""One runner for every store: poll from each view's tracking position, woken early by NOTIFY.

Each pass reads one batch of notifications after the slowest view's position, reads it
once, and hands it to every view that is behind; each view applies the part it has not seen
and its tracking in one transaction. That is the whole exactly-once story, so two runners
on the same views (threads or processes) are safe: the loser of a race skips the batch.
On PostgreSQL a LISTEN on the application's channel wakes the runner as soon as events are
stored; elsewhere (SQLite) the runner polls, and `wake()` lets an in-process writer nudge it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from clusterlabel.projections.cyclic_gc import collector_paused
from clusterlabel.projections.log_reader import LogReader
from clusterlabel.projections.parked import ParkedView, error_text, is_store_failure
from clusterlabel.projections.stored_fields import StoredFields
from clusterlabel.projections.view import Change, View
from clusterlabel.projections.view_store import stamp

log = structlog.get_logger(__name__)

Progress = Callable[[str, int, int], None]  # (view name, position, log head)
SETTLE_SECONDS = 0.05
# Notifications read and applied per pass when catching up. Why this many: each pass costs every view a
# transaction and a lookup of the rows it changes, and over a large store the rows of one batch share
# pages more often the larger it is (10,000 against 2,000: a tenth less time over 1.7 million events).
BATCH_SIZE = 10_000
# ... and when following the log live, as before: a live runner is seldom far behind, and a batch is what
# one view's lock is held for, what stays in memory beside the API, and what find_failing_event applies
# again one event at a time when a view fails on it.
LIVE_BATCH_SIZE = 2_000
REACHED_TRUSTED_SECONDS = 0.5


class ViewRunner:
    def __init__(
        self, app: Application[Any], views: Sequence[View], *, batch_size: int = BATCH_SIZE, poll_interval: float = 1.0
    ) -> None:
        self.app = app
        self.views = list(views)
        self.stored = StoredFields(app.mapper)
        self.reader = LogReader(app, self.stored)
        self.batch_size = batch_size  # when catching up (run_until_caught_up)
        self.live_batch_size = min(batch_size, LIVE_BATCH_SIZE)  # when following the log (run_once, start)
        self.poll_interval = poll_interval
        self.last_error: BaseException | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        # Every view that follows the log was seen at least this far, at this instant (see reached).
        self._all_reached: tuple[int, float] = (0, -math.inf)

    @property
    def application_name(self) -> str:
        return self.app.name

    # ---- positions -----------------------------------------------------------------------

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def positions(self, parked: bool = True) -> dict[str, int]:
        """Each view's position in the log; with parked=False, only the views that are not parked."""
        if not parked:
            return self._following_positions()
        return {view.name: view.position(self.application_name) for view in self.views}

    def lag(self, parked: bool = True) -> dict[str, int]:
        """Events each view is behind the log head (with parked=False, only the views that are not parked)."""
        head = self.head()
        return {name: max(0, head - position) for name, position in self.positions(parked).items()}

    def reached(self, target: int) -> bool:
        """Whether every view not parked has read the log up to `target`.

        The furthest position all were seen at is trusted for REACHED_TRUSTED_SECONDS: a burst of reads
        while no event is stored makes one round of queries to the views' stores, not one per read. Not
        longer, because positions move back when a view is rebuilt, perhaps by another process (an
        operator's `projections rebuild`, a newer runner rebuilding a view whose shape changed)."""
        position, seen_at = self._all_reached
        if target <= position and time.monotonic() - seen_at < REACHED_TRUSTED_SECONDS:
            return True
        lowest = min(self.positions(parked=False).values(), default=target)
        self._all_reached = (min(lowest, target), time.monotonic())
        return lowest >= target

    def forget_reached(self) -> None:
        """The views were emptied here: ask their stores again."""
        self._all_reached = (0, -math.inf)

    def following(self) -> list[View]:
        """The views that follow the log: every view but those parked (read from their stores, so that a
        view parked or rebuilt by another process is seen at once)."""
        return [view for view in self.views if view.parked() is None]

    def _following_positions(self) -> dict[str, int]:
        """The position of each view that follows the log, in one query where the views share a store."""
        together = self.views[0].standings(self.views, self.application_name) if self.views else {}
        if together is None:
            return {view.name: view.position(self.application_name) for view in self.following()}
        return {name: position for name, position in together.items() if position is not None}

    def parked(self) -> list[ParkedView]:
        return [parked for view in self.views if (parked := view.parked()) is not None]

    # ---- catching up ---------------------------------------------------------------------

    def run_once(self) -> int:
        """Apply one batch to every view that is behind and not parked; the number of notifications read.

        A view that fails on an event is parked on it (projections/parked.py) and the others carry on;
        a failure of a view's store parks nothing and is raised once every other view had its turn."""
        return self._pass(self.live_batch_size)[0]

    def _pass(self, limit: int, stop: int | None = None) -> tuple[int, int | None]:
        """run_once(), and the lowest position of the views that follow after it (None when none does),
        known without asking each view's store again (why: on PostgreSQL, round trips every pass).

        When no view that follows reads every event, only the kinds of event they handle are read (the others
        are never built), up to `stop` (the head now when not given); each view is then tracked at the end of
        what was looked over, the events it never saw included."""
        positions = self._following_positions()
        if not positions:
            return 0, None
        following = [view for view in self.views if view.name in positions]
        start, kinds = min(positions.values()), wanted_kinds(following)
        if kinds is not None and stop is None:
            stop = self.head()
        changes = self.reader.changes(start, limit, stop, kinds) if stop is None or start < stop else []
        end = changes[-1].id if changes else start
        if kinds is not None and len(changes) < limit:
            end = max(end, stop or 0)  # a short batch: nothing more up to `stop` was wanted
        if end <= start:
            return 0, start
        tracking = Tracking(self.application_name, end)
        failures = []
        for view in following:
            if positions[view.name] < tracking.notification_id:
                try:
                    view.apply(changes, tracking)  # applied, or another runner had: at the batch's end now
                    positions[view.name] = tracking.notification_id
                except Exception as error:
                    if not self._isolate(view, changes, error):
                        failures.append(error)
        if failures:
            raise failures[0]
        return len(changes), min(positions.values())  # a view that failed counts where it was

    def _isolate(self, view: View, changes: list[Change], error: Exception) -> bool:
        """Park `view` on the event it fails on; False when it is the store that failed (retry later)."""
        try:
            if is_store_failure(error):
                raise error
            found = find_failing_event(view, changes, self.application_name)
            if found is None:
                log.warning("views.failure_did_not_recur", view=view.name, error=error_text(error))
                return True
            parked = view.park(self.application_name, *found, stamp(datetime.now(UTC)) or "")
        except Exception as failure:
            log.warning("views.store_failed", view=view.name, error=error_text(failure))
            return False
        log.error(
            "views.parked", **parked.model_dump(), rebuild=f"clusterlabel projections rebuild --views {view.name}"
        )
        return True

    def run_until_caught_up(self, progress: Progress | None = None) -> int:
        """Catch up to the log head as it was when called (every view not parked); the notifications read.

        The cyclic garbage collector waits meanwhile (projections/cyclic_gc.py: a catch-up makes no cycles
        to speak of, and the collector's walks of the heap cost a tenth of it or more)."""
        with collector_paused():
            return self._catch_up(progress)

    def _catch_up(self, progress: Progress | None) -> int:
        target, total = self.head(), 0
        lowest: int | None = min(self.positions(parked=False).values(), default=target)
        while lowest is not None and lowest < target:
            was = lowest
            read, lowest = self._pass(self.batch_size, stop=target)
            total += read
            if progress is not None:
                for name, position in self.positions().items():
                    progress(name, position, target)
            if read == 0 and (lowest is None or lowest <= was):
                break  # nothing read and no view moved on: the next call tries again
        return total

    # ---- in the background ---------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        # Writes made in this process wake the runner at once (SQLite has no NOTIFY).
        listeners = getattr(self.app, "saved_listeners", None)
        if listeners is not None and self.wake not in listeners:
            listeners.append(self.wake)
        self._thread = threading.Thread(target=self._loop, name="clusterlabel-views", daemon=True)
        self._thread.start()
        if isinstance(self.app.recorder, PostgresApplicationRecorder):
            self._listener = threading.Thread(target=self._listen, name="clusterlabel-views-listen", daemon=True)
            self._listener.start()

    def stop(self, timeout: float = 10.0) -> None:
        listeners = getattr(self.app, "saved_listeners", None)
        if listeners is not None and self.wake in listeners:
            listeners.remove(self.wake)
        self._stopping.set()
        self._wake.set()
        for thread in (self._thread, self._listener):
            if thread is not None:
                thread.join(timeout)
        self._thread = self._listener = None

    @property
    def running(self) -> bool:
        """The background loop is alive (it may still be behind: see lag())."""
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """New events were stored: catch up now instead of at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                read = self.run_once()
            except Exception as error:  # keep serving; the next pass retries the same batch
                self.last_error = error
                log.exception("views.catch_up_failed", views=[view.name for view in self.views])
                read = 0
            if read < self.live_batch_size and self._wake.wait(self.poll_interval):
                # Woken by a save: let the saves around it land too, so that one pass (one
                # transaction per view) carries them all instead of one pass per save.
                self._stopping.wait(SETTLE_SECONDS)

    def _listen(self) -> None:
        """LISTEN on the application's channel; any notify wakes the loop."""
        recorder: PostgresApplicationRecorder = self.app.recorder  # type: ignore[assignment]
        while not self._stopping.is_set():
            try:
                with recorder.datastore.get_connection() as connection:
                    connection.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
                    try:
                        while not self._stopping.is_set():
                            for _ in connection.notifies(timeout=0.2, stop_after=1):
                                self._wake.set()
                    finally:
                        connection.execute("UNLISTEN *")  # the connection goes back to the pool
            except Exception:  # the poll still runs; listen again after a pause
                log.exception("views.listen_failed")
                self._stopping.wait(self.poll_interval)


def wanted_kinds(views: Sequence[View]) -> frozenset[str] | None:
    """The kinds of event (as Change.kind) any of `views` handles; None when one of them reads every event."""
    if any(view.every_event for view in views):
        return None
    return frozenset(kind for view in views for kind in view.handlers)


def find_failing_event(
    view: View, changes: Sequence[Change], application_name: str
) -> tuple[Change, BaseException] | None:
    """Apply the view's part of `changes` one event at a time, each with its tracking; the first event
    that fails twice in a row, and its error (None when all applied: the batch's failure did not recur)."""
    for change in changes:
        if not (view.every_event or change.kind in view.handlers):
            continue
        for attempt in (1, 2):
            try:
                view.apply([change], Tracking(application_name, change.id))
                break
            except Exception as error:
                if is_store_failure(error):
                    raise
                if attempt == 2:
                    return change, error
    return None
