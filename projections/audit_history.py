"""Audit history: every event of a case, a label or a cluster (with its cases and labels), in order.

Each entry has the log position (`seq`), the aggregate version, the event type, the acting
principal, the event's data as plain JSON, and two instants: `recorded_at` (when the event
was stored) and `effective_at` (the business instant the command named: `at`,
`submitted_at`, `decided_at`). Commands take their time from the application's clock, which
tests and replays move, while stored timestamps are wall-clock time. An event without its own
instant (Cluster.CaseOpened, ...) takes the instant of the event before it in the log, which
is usually the one saved with it; and effective time never goes backwards within an
aggregate. As-of queries use effective time.

The view keeps each event's place, type and effective instant; what the event says (its data,
actor, command key and recorded time) is read from the event log itself when a history is
asked for, secrets redacted. So a catch-up writes a few short columns per event instead of a
second copy of the log, and the history shows the stored events themselves.

Each record (subject) gets a number in the order the view first sees it, and its events are
indexed by that number, not by the record's id. Why: ids are random, so an index keyed by them
takes each batch's rows at random places all over its pages, and a catch-up rewrote more of it
the longer the log (over 1.7 million events, 0.4 of this view's time); numbered in order, the
rows of new records go to the end of the index, a few pages a batch. (The records' own ids are still
indexed, but once a record, not once an event.)
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.projections.event_log import EventLog
from clusterlabel.projections.stored_fields import ENVELOPE, plain_field
from clusterlabel.projections.view import Change, RowCache, View
from clusterlabel.projections.view_store import Row, plain, stamp, unstamp

_OWN_INSTANT = ("at", "submitted_at", "decided_at")
# Any of them as a key in the stored JSON, found in one pass over the text.
_OWN_INSTANT_MARK = re.compile(b"|".join(re.escape(f'"{name}":'.encode()) for name in _OWN_INSTANT))
AUDIT_EVENT_COLUMNS = ("notification_id", "subject", "version", "event_type", "effective_at")
# An entry's place and type, its record's id and type joined from the subject's row.
_JOINED = "FROM {audit_events} e JOIN {audit_subjects} s ON s.subject = e.subject"
_ENTRY_ROWS = (
    f"SELECT e.notification_id, s.aggregate_id, s.aggregate_type, e.version, e.event_type, e.effective_at {_JOINED}"
)


class AuditEntry(BaseModel):
    seq: int
    aggregate_id: UUID
    aggregate_type: str
    version: int
    event_type: str
    effective_at: datetime
    recorded_at: datetime
    actor: str | None
    command_key: str | None
    data: dict[str, Any]


class AuditHistoryView(View):
    name = "audit_history"
    cost = 12
    view_tables = ("audit_events", "audit_subjects")
    every_event = True  # every event is audited, whatever its aggregate
    ddl = (
        "CREATE TABLE IF NOT EXISTS {audit_subjects} (subject BIGINT PRIMARY KEY, aggregate_id TEXT NOT NULL UNIQUE, "
        "aggregate_type TEXT, cluster_id TEXT, last_effective_at TEXT)",
        "CREATE INDEX IF NOT EXISTS audit_subjects_by_cluster ON {audit_subjects} (cluster_id)",
        "CREATE TABLE IF NOT EXISTS {audit_events} (notification_id BIGINT PRIMARY KEY, subject BIGINT NOT NULL, "
        "version BIGINT NOT NULL, event_type TEXT, effective_at TEXT)",
        "CREATE UNIQUE INDEX IF NOT EXISTS audit_by_subject ON {audit_events} (subject, version)",
    )

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> dict[str, Any]:
        cursor.execute(self.q("SELECT effective_at FROM {audit_events} ORDER BY notification_id DESC LIMIT 1"))
        last = cursor.fetchone()
        # Numbers are given under the view's write lock (ViewStore.write, taken before this read): no other
        # runner gives one until this batch is committed, and then it reads this batch's numbers.
        cursor.execute(self.q("SELECT MAX(subject) AS subject FROM {audit_subjects}"))
        numbered = cursor.fetchone()["subject"]
        # A record's later events change only its last instant: its number, id and cluster stay put, and so
        # do their index entries (an update that set them again would rewrite those on SQLite).
        subjects = RowCache(self, "audit_subjects", "aggregate_id", changing=("last_effective_at",))
        subjects.prefetch(cursor, [change.key for change in changes])
        return {
            "subjects": subjects,
            "events": [],
            "last": last["effective_at"] if last else None,
            "next": int(numbered or 0) + 1,
        }

    def end_batch(self, cursor: Any, batch: dict[str, Any]) -> None:
        batch["subjects"].flush(cursor)
        self.insert_rows(cursor, "audit_events", AUDIT_EVENT_COLUMNS, batch["events"])

    def handle_all(self, cursor: Any, batch: dict[str, Any], changes: Sequence[Change]) -> None:
        # One loop, its names bound once (why: the view reads every event of the log, and a method call and
        # the batch's parts looked up again per event were a good part of its own work on each).
        subjects: RowCache = batch["subjects"]
        held, dirty, append, last = subjects.rows, subjects.dirty, batch["events"].append, batch["last"]
        for change in changes:
            key = change.key
            subject = held[key] if key in held else subjects.get(cursor, key)
            if subject is None:
                subject = self._new_subject(batch, change)
            effective = _effective_at(change, subject["last_effective_at"], last)
            subject["last_effective_at"] = last = effective
            held[key] = subject  # subjects.put(subject)
            dirty.add(key)
            append((change.id, subject["subject"], change.version, change.event_type, effective))
        batch["last"] = last

    @staticmethod
    def _new_subject(batch: dict[str, Any], change: Change) -> Row:
        number = batch["next"]
        batch["next"] = number + 1
        return {
            "subject": number,
            "aggregate_id": change.key,
            "aggregate_type": change.aggregate_type,
            "cluster_id": _cluster_of(change),
            "last_effective_at": None,
        }

    # ---- queries -------------------------------------------------------------------------

    def history(self, aggregate_ids: Sequence[UUID], log: EventLog) -> list[AuditEntry]:
        """Every event of these records, in log order: one query however many records (a case and its
        messages are read together)."""
        keys = [str(aggregate_id) for aggregate_id in aggregate_ids]
        with self.read() as cursor:
            rows = [dict(row) for row in self.rows_where_in(cursor, _ENTRY_ROWS, "s.aggregate_id", keys)]
        rows.sort(key=lambda row: int(row["notification_id"]))
        return _entries(rows, log)

    def cluster_history(
        self, cluster_id: UUID, log: EventLog, only: Collection[UUID] | None = None
    ) -> list[AuditEntry]:
        """The cluster's own events and those of all its cases and labels, in log order; given `only`,
        the events of those records alone (the cases and labels a caller may see)."""
        rows = self.fetch(f"{_ENTRY_ROWS} WHERE s.cluster_id = ? ORDER BY e.notification_id", (str(cluster_id),))
        if only is not None:  # filtered before the log is read: the other records' events are never loaded
            wanted = {str(record_id) for record_id in only}
            rows = [row for row in rows if row["aggregate_id"] in wanted]
        return _entries(rows, log)

    def version_at(self, aggregate_id: UUID, instant: datetime) -> int | None:
        """The aggregate's last version in effect at `instant`; None if it did not exist yet."""
        rows = self.fetch(
            f"SELECT MAX(e.version) AS v {_JOINED} WHERE s.aggregate_id = ? AND e.effective_at <= ?",
            (str(aggregate_id), stamp(instant)),
        )
        return int(rows[0]["v"]) if rows and rows[0]["v"] is not None else None


class Repository(Protocol):
    def get(self, aggregate_id: UUID, *, version: int | None = None) -> Any: ...


def state_as_of(
    repository: Repository, view: AuditHistoryView, aggregate_id: UUID, instant: datetime
) -> dict[str, Any] | None:
    """The aggregate as it stood at `instant`, as plain data; None before it existed."""
    version = view.version_at(aggregate_id, instant)
    if version is None:
        return None
    return aggregate_as_dict(repository.get(aggregate_id, version=version))


# The idempotency keys an aggregate keeps are the callers' business, not its state.
_KEYS = ("command_keys", "recent_command_keys")


def aggregate_as_dict(aggregate: Any) -> dict[str, Any]:
    state = {k: plain(v) for k, v in vars(aggregate).items() if not k.startswith("_") and k not in _KEYS}
    return {"id": str(aggregate.id), "version": aggregate.version, "type": type(aggregate).__name__, **state}


def _cluster_of(change: Change) -> str | None:
    if change.kind == "Cluster.Registered":
        return change.key
    if change.event_type in ("Submitted", "Issued"):
        return change.get("cluster_id")
    return None


def _effective_at(change: Change, previous: str | None, log_previous: str | None) -> str:
    own = _own_instant(change)
    effective: str = own or log_previous or change.recorded_at
    return max(effective, previous or "")


def _own_instant(change: Change) -> str | None:
    # Why look at the text first: about a third of the events name no instant, and for those
    # the view then never parses the event at all.
    stored = change.json
    if stored is not None and _OWN_INSTANT_MARK.search(stored) is None:
        return None
    fields = change.fields
    for name in _OWN_INSTANT:
        instant = fields.get(name)
        if instant is not None:
            return plain_field(instant)
    return None


def _entries(rows: Sequence[Row], log: EventLog) -> list[AuditEntry]:
    versions: dict[str, list[int]] = {}
    for row in rows:
        versions.setdefault(row["aggregate_id"], []).append(int(row["version"]))
    events = log.events(versions)  # one read of the log for all the records
    return [_entry(row, events[row["aggregate_id"]].get(int(row["version"]))) for row in rows]


def _entry(row: Row, event: dict[str, Any] | None) -> AuditEntry:
    if event is None:  # the view saw it, the log no longer has it: `clusterlabel verify` says more
        event = {"timestamp": row["effective_at"], "missing": "this event is no longer in the event log"}
    data = {key: value for key, value in event.items() if key not in ENVELOPE}
    return AuditEntry(
        seq=int(row["notification_id"]),
        aggregate_id=row["aggregate_id"],
        aggregate_type=row["aggregate_type"],
        version=int(row["version"]),
        event_type=row["event_type"],
        effective_at=unstamp(row["effective_at"]),
        recorded_at=unstamp(event["timestamp"]),
        actor=data.get("actor"),
        command_key=data.get("command_key"),
        data=data,
    )
