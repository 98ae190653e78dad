"""A view: tables, and how a batch of the application's events changes them, exactly once.

`Change` (projections/change.py) is one notification of the application's log, read once per
batch and shared by every view. `View.apply()` writes a batch and its tracking in one transaction; a batch (or
the part of it) that another runner already applied is skipped, never applied twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import structlog
from eventsourcing.persistence import IntegrityError, Tracking

from clusterlabel.projections.change import Change, kind_of
from clusterlabel.projections.parked import PARKED_DDL, WHILE_TRACKING, ParkedView, error_text
from clusterlabel.projections.view_store import Row, ViewStore

__all__ = ["Change", "RowCache", "RowPerAggregateView", "View", "kind_of", "rows_where_in"]
log = structlog.get_logger(__name__)
# json.dumps(value, sort_keys=True), without building a new encoder for every value (as dumps does for any
# argument but the defaults): the same text.
_SORTED_JSON = json.JSONEncoder(sort_keys=True).encode


class View(ViewStore):
    """A read model. Subclasses list their DDL and handle events by "Aggregate.Event" name."""

    name: ClassVar[str] = ""
    ddl: ClassVar[tuple[str, ...]] = ()
    handlers: ClassVar[dict[str, str]] = {}  # "Label.Issued" -> method name
    # A view that reads every event overrides handle(); others see only the events they
    # name in handlers, and the rest only move their tracking on.
    every_event: ClassVar[bool] = False
    # Work per event of the log beyond reading it, in µs, as measured for each view alone catching up over
    # 360,000 events (18,000 cases; its apply() alone, parsing the events it reads included): to split
    # views among processes.
    cost: ClassVar[float] = 1.0
    # Bump when the handlers change what the rows hold without a change to the DDL.
    revision: ClassVar[int] = 1
    # Tables an earlier shape of the view had: dropped when the view is rebuilt.
    former_tables: ClassVar[tuple[str, ...]] = ()

    def shape(self) -> str:
        """A fingerprint of the view's tables (in this store's dialect) and handlers, kept beside its tracking."""
        return self.shape_of(self.ddl, self.revision)

    def shape_of(self, ddl: Sequence[str], revision: int) -> str:
        statements = (self.dialect(statement) for statement in ddl)
        return hashlib.sha256("\n".join((str(revision), *statements)).encode()).hexdigest()[:16]

    def upgrade(self, cursor: Any, found_shape: str) -> bool:
        """Bring tables of an earlier shape to this one in place; False (the default) to drop and rebuild them."""
        return False

    def create_table(self) -> None:
        """Create the view's tables; a view built by another version of its code starts over from zero."""
        with self.ddl_lock():
            super().create_table()  # type: ignore[misc]  # the tracking table (the store's recorder, mixed in)
            self._create_view_tables()

    def _create_view_tables(self) -> None:
        with self.write() as cursor:
            cursor.execute(
                self.q("CREATE TABLE IF NOT EXISTS {view_shapes} (view TEXT PRIMARY KEY, shape TEXT NOT NULL)")
            )
            cursor.execute(self.q(PARKED_DDL))
            cursor.execute(self.q("SELECT shape FROM {view_shapes} WHERE view = ?"), (self.name,))
            found, shape = cursor.fetchone(), self.shape()
            if found is None or found["shape"] != shape:
                if found is not None:
                    log.info("views.shape_changed", view=self.name, was=found["shape"], now=shape)
                if found is None or not self.upgrade(cursor, found["shape"]):
                    self._drop(cursor, (*self.view_tables, *self.former_tables))
                    cursor.execute(self.q("DELETE FROM {tracking}"))
                cursor.execute(self.q("DELETE FROM {parked_views} WHERE view = ?"), (self.name,))  # new code: try again
                self.upsert(cursor, "view_shapes", ["view"], [{"view": self.name, "shape": shape}])
            for statement in self.ddl:
                cursor.execute(self.q(statement))

    def _drop(self, cursor: Any, tables: Sequence[str]) -> None:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table(table)}")

    def apply(self, changes: Sequence[Change], tracking: Tracking) -> int:
        """Apply the changes this view has not seen yet and record tracking; how many applied."""
        tracking_recorded = False
        try:
            with self.write() as cursor:
                done = self.tracked(cursor, tracking.application_name)
                if tracking.notification_id <= done:
                    return 0  # another runner got there first
                todo = self.unseen(changes, done)
                batch = self.begin_batch(cursor, todo)
                self.handle_all(cursor, batch, todo)
                self.end_batch(cursor, batch)
                tracking_recorded = True
                self.track(cursor, tracking)
                return len(todo)
        except IntegrityError:
            if not tracking_recorded:
                raise  # the view's own rows broke a constraint: the view fails on this batch
            return 0  # tracking conflict: the same position was recorded by someone else
        except Exception as error:
            if tracking_recorded:  # no event's doing: the batch is tried again, nothing is parked
                error.add_note(WHILE_TRACKING)
            raise

    def unseen(self, changes: Sequence[Change], done: int) -> list[Change]:
        """The changes after position `done` that this view reads."""
        if self.every_event:
            return [change for change in changes if change.id > done]
        handlers = self.handlers  # bound once: looked up on the class, it cost more than the test itself
        return [change for change in changes if change.kind in handlers and change.id > done]

    def handle_all(self, cursor: Any, batch: Any, changes: Sequence[Change]) -> None:
        """Each change in turn; a view whose per-event work is hot may override it with one loop of its own."""
        if type(self).handle is not View.handle:
            handle = self.handle
            for change in changes:
                handle(cursor, batch, change)
            return
        methods = self._handler_methods()  # why: a getattr() per event and view, otherwise
        for change in changes:
            methods[change.kind](cursor, batch, change)

    def handle(self, cursor: Any, batch: Any, change: Change) -> None:
        getattr(self, self.handlers[change.kind])(cursor, batch, change)

    def _handler_methods(self) -> dict[str, Callable[[Any, Any, Change], None]]:
        """The bound method of each kind in `handlers` (made once per view)."""
        methods = self.__dict__.get("_handler_methods_cache")
        if methods is None:
            methods = {kind: getattr(self, name) for kind, name in self.handlers.items()}
            self.__dict__["_handler_methods_cache"] = methods
        return methods

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> Any:
        """State kept across one batch (a row cache, filled for `changes`); written by end_batch()."""
        return None

    def end_batch(self, cursor: Any, batch: Any) -> None:
        pass

    def reset(self, application_name: str) -> None:
        """Drop and recreate the view's tables and forget its position, in one transaction."""
        with self.write() as cursor:
            self._drop(cursor, (*self.view_tables, *self.former_tables))
            for statement in self.ddl:
                cursor.execute(self.q(statement))
            cursor.execute(self.q("DELETE FROM {tracking} WHERE application_name = ?"), (application_name,))
            cursor.execute(self.q("DELETE FROM {parked_views} WHERE view = ?"), (self.name,))

    # ---- parked on an event it cannot apply (projections/parked.py) ---------------------------

    def parked(self) -> ParkedView | None:
        rows = self.fetch("SELECT * FROM {parked_views} WHERE view = ?", (self.name,))
        return ParkedView.model_validate(rows[0]) if rows else None

    def park(self, application_name: str, change: Change, error: BaseException, now: str) -> ParkedView:
        """Record that this view stops at `change`, which it cannot apply (its position stays before it)."""
        parked = ParkedView(
            view=self.name,
            position=change.id,
            originator_id=change.key,
            originator_version=change.version,
            event_type=change.kind,
            error=error_text(error),
            parked_at=now,
        )
        with self.write() as cursor:
            self.upsert(
                cursor, "parked_views", ["view"], [{**parked.model_dump(), "application_name": application_name}]
            )
        return parked

    def dump(self) -> dict[str, list[Row]]:
        """Every row of every table, in a stable order (for comparing two builds)."""
        return {
            table: sorted(
                self.fetch(f"SELECT * FROM {{{table}}}"), key=lambda row: json.dumps(row, sort_keys=True, default=str)
            )
            for table in self.view_tables
        }


def rows_where_in(view: View, cursor: Any, select: str, column: str, keys: Sequence[str]) -> Iterator[Row]:
    """`select` WHERE `column` IN `keys`, in as few queries as the view's store allows."""
    return view.rows_where_in(cursor, select, column, keys)


@dataclass(eq=False)
class RowCache:
    """The rows of one table a batch touches: each loaded once, written once at the end."""

    view: View
    table: str
    key: str
    json_columns: tuple[str, ...] = ()
    changing: tuple[str, ...] | None = None  # the columns a row already stored can change (ViewStore.upsert)
    rows: dict[str, Row | None] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)

    def prefetch(self, cursor: Any, keys: Sequence[str]) -> RowCache:
        """Load the rows of these keys in a few queries, not one per key (why: a round trip each on PostgreSQL)."""
        missing = [key for key in dict.fromkeys(keys) if key not in self.rows]
        self.rows.update(dict.fromkeys(missing))
        for row in rows_where_in(self.view, cursor, f"SELECT * FROM {{{self.table}}}", self.key, missing):
            self.rows[row[self.key]] = self._decode(dict(row))
        return self

    def get(self, cursor: Any, key: str) -> Row | None:
        if key not in self.rows:
            cursor.execute(self.view.q(f"SELECT * FROM {{{self.table}}} WHERE {self.key} = ?"), (key,))
            found = cursor.fetchone()
            self.rows[key] = self._decode(dict(found)) if found else None
        return self.rows[key]

    def row_for(self, cursor: Any, change: Change, started_by: str, start: Callable[[Change], Row]) -> Row | None:
        """The row `change` changes: `start(change)` for the aggregate's first event (`started_by`), else
        the row held (None for an aggregate the table does not hold)."""
        return start(change) if change.event_type == started_by else self.get(cursor, change.key)

    def put(self, row: Row) -> None:
        key = row[self.key]
        self.rows[key] = row
        self.dirty.add(key)

    def flush(self, cursor: Any) -> None:
        held = self.rows
        changed = [row for key in sorted(self.dirty) if (row := held[key]) is not None]
        rows = [self._encode(row) for row in changed] if self.json_columns else changed  # no copy when none to encode
        self.view.upsert(cursor, self.table, [self.key], rows, self.changing)
        self.dirty.clear()

    def _decode(self, row: Row) -> Row:
        for column in self.json_columns:
            row[column] = json.loads(row[column]) if row[column] is not None else None
        return row

    def _encode(self, row: Row) -> Row:
        encoded = dict(row)
        for column in self.json_columns:
            encoded[column] = _SORTED_JSON(row[column])
        return encoded


class RowPerAggregateView(View):
    """A view whose first table holds a row per aggregate: the aggregate's first event starts the row,
    the later ones change it. Its class names the row's key column and that first event, and may name
    the aggregate and the events change_row() handles: `class ComplaintsView(RowPerAggregateView,
    key="complaint_id", started_by="Lodged", aggregate="Complaint", follows=EVENTS)`."""

    row_key: ClassVar[str]  # the column that holds the aggregate's id
    started_by: ClassVar[str]  # the type of the aggregate's first event, e.g. "Lodged"
    # The row's columns beside its key and its position, when the view's one table is named as the view:
    # that table's statement is then written here, and the view gives what follows it (its indexes) as
    # more_ddl. Why: every such view began its DDL with the same key and position, written out again.
    row_columns: ClassVar[str] = ""
    more_ddl: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(
        cls,
        key: str | None = None,
        started_by: str | None = None,
        aggregate: str | None = None,
        follows: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if (key is None) != (started_by is None):
            raise TypeError(f"{cls.__name__}: a row's key and its first event are named together")
        if key is not None and started_by is not None:
            cls.row_key, cls.started_by = key, started_by
        if aggregate is not None:
            cls.handlers = {f"{aggregate}.{event}": "change_row" for event in follows}
        if "row_columns" in cls.__dict__:
            cls.view_tables = (cls.name,)
            cls.ddl = (cls.rows_table(), *cls.more_ddl)

    @classmethod
    def rows_table(cls) -> str:
        """The statement of the table of a row per aggregate: its key, the position it starts at, its columns."""
        return (
            f"CREATE TABLE IF NOT EXISTS {{{cls.name}}} "
            f"({cls.row_key} TEXT PRIMARY KEY, position BIGINT NOT NULL, {cls.row_columns})"
        )

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> RowCache:
        # The rows the batch changes, loaded at once; an aggregate the batch starts has no row yet.
        changed = [change.key for change in changes if change.event_type != self.started_by]
        return RowCache(self, self.view_tables[0], self.row_key).prefetch(cursor, changed)

    def end_batch(self, cursor: Any, batch: RowCache) -> None:
        batch.flush(cursor)

    def change_row(self, cursor: Any, batch: RowCache, change: Change) -> None:
        """The handler of the aggregate's events: the row started or changed (one the view does not hold, left alone)."""
        row = batch.row_for(cursor, change, self.started_by, self.started)
        if row is not None:
            self.follow(row, change)
            batch.put(row)

    def started(self, change: Change) -> Row:
        """The row the aggregate's first event starts: its key, the log position it starts at (the queries
        list rows in that order) and first_columns(); a view whose rows hold no position overrides it."""
        return {self.row_key: change.key, "position": change.id, **self.first_columns(change)}

    def first_columns(self, change: Change) -> Row:
        """What the aggregate's first event puts in its row beside the key and the position."""
        raise NotImplementedError

    def follow(self, row: Row, change: Change) -> None:
        """What an event changes in the row (the first event too, after started())."""
