"""Audit history: every event of a case, a label or a cluster (with its cases and labels), in order.

Each entry has the log position (`seq`), the aggregate version, the event type, the acting
principal, the event's data as plain JSON, and two instants: `recorded_at` (when the event
was stored) and `effective_at` (the business instant the command named: `at`,
`submitted_at`, `decided_at`). Commands take their time from the application's clock, which
tests and replays move, while stored timestamps are wall-clock time. An event without its own
instant (Cluster.CaseOpened, ...) takes the instant of the event before it in the log, which
is usually the one saved with it; and effective time never goes backwards within an
aggregate. As-of queries use effective time.

A row keeps the stored event's own JSON text (secrets redacted), so a catch-up copies text
instead of encoding every event again; the entry's actor, command key, recorded time and
data are read from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from pydantic import BaseModel

from projections.store import Row, plain, stamp, unstamp
from projections.stored import ENVELOPE, event_from_text, plain_field
from projections.view import Change, RowCache, View

_OWN_INSTANT = ("at", "submitted_at", "decided_at")


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
    cost = 19
    view_tables = ("audit_events", "audit_subjects")
    every_event = True  # every event is audited, whatever its aggregate
    ddl = (
        "CREATE TABLE IF NOT EXISTS {audit_events} (notification_id BIGINT PRIMARY KEY, aggregate_id TEXT NOT NULL, "
        "aggregate_type TEXT, version BIGINT NOT NULL, event_type TEXT, effective_at TEXT, event TEXT)",
        "CREATE UNIQUE INDEX IF NOT EXISTS audit_by_aggregate ON {audit_events} (aggregate_id, version)",
        "CREATE TABLE IF NOT EXISTS {audit_subjects} (aggregate_id TEXT PRIMARY KEY, aggregate_type TEXT, "
        "cluster_id TEXT, last_effective_at TEXT)",
        "CREATE INDEX IF NOT EXISTS audit_subjects_by_cluster ON {audit_subjects} (cluster_id)",
    )

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> dict[str, Any]:
        cursor.execute(self.q("SELECT effective_at FROM {audit_events} ORDER BY notification_id DESC LIMIT 1"))
        last = cursor.fetchone()
        subjects = RowCache(self, "audit_subjects", "aggregate_id").prefetch(cursor, [change.key for change in changes])
        return {"subjects": subjects, "events": [], "last": last["effective_at"] if last else None}

    def end_batch(self, cursor: Any, batch: dict[str, Any]) -> None:
        batch["subjects"].flush(cursor)
        cursor.executemany(
            self.q(
                "INSERT INTO {audit_events} (notification_id, aggregate_id, aggregate_type, version, event_type, effective_at, event) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            batch["events"],
        )

    def handle(self, cursor: Any, batch: dict[str, Any], change: Change) -> None:
        subjects: RowCache = batch["subjects"]
        aggregate_type, _, event_type = change.kind.partition(".")
        subject = subjects.get(cursor, change.key) or {
            "aggregate_id": change.key,
            "aggregate_type": aggregate_type,
            "cluster_id": _cluster_of(change),
            "last_effective_at": None,
        }
        effective = _effective_at(change, subject["last_effective_at"], batch["last"])
        subject["last_effective_at"] = batch["last"] = effective
        subjects.put(subject)
        # The stored event itself: actor, command key and recorded time are read from it.
        batch["events"].append((change.id, change.key, aggregate_type, change.version, event_type, effective, change.event_json))

    # ---- queries -------------------------------------------------------------------------

    def history(self, aggregate_id: UUID) -> list[AuditEntry]:
        rows = self.fetch("SELECT * FROM {audit_events} WHERE aggregate_id = ? ORDER BY notification_id", (str(aggregate_id),))
        return [_entry(row) for row in rows]

    def cluster_history(self, cluster_id: UUID) -> list[AuditEntry]:
        """The cluster's own events and those of all its cases and labels, in log order."""
        rows = self.fetch(
            "SELECT e.* FROM {audit_events} e JOIN {audit_subjects} s ON s.aggregate_id = e.aggregate_id "
            "WHERE s.cluster_id = ? ORDER BY e.notification_id",
            (str(cluster_id),),
        )
        return [_entry(row) for row in rows]

    def version_at(self, aggregate_id: UUID, instant: datetime) -> int | None:
        """The aggregate's last version in effect at `instant`; None if it did not exist yet."""
        rows = self.fetch(
            "SELECT MAX(version) AS v FROM {audit_events} WHERE aggregate_id = ? AND effective_at <= ?",
            (str(aggregate_id), stamp(instant)),
        )
        return int(rows[0]["v"]) if rows and rows[0]["v"] is not None else None


class Repository(Protocol):
    def get(self, aggregate_id: UUID, *, version: int | None = None) -> Any: ...


def state_as_of(repository: Repository, view: AuditHistoryView, aggregate_id: UUID, instant: datetime) -> dict[str, Any] | None:
    """The aggregate as it stood at `instant`, as plain data; None before it existed."""
    version = view.version_at(aggregate_id, instant)
    if version is None:
        return None
    return aggregate_as_dict(repository.get(aggregate_id, version=version))


def aggregate_as_dict(aggregate: Any) -> dict[str, Any]:
    state = {k: plain(v) for k, v in vars(aggregate).items() if not k.startswith("_") and k != "command_keys"}
    return {"id": str(aggregate.id), "version": aggregate.version, "type": type(aggregate).__name__, **state}


def _cluster_of(change: Change) -> str | None:
    if change.kind == "Cluster.Registered":
        return change.key
    if change.event_type in ("Submitted", "Issued"):
        return change.get("cluster_id")  # type: ignore[no-any-return]
    return None


def _effective_at(change: Change, previous: str | None, log_previous: str | None) -> str:
    fields = change.fields
    instant = next((fields[name] for name in _OWN_INSTANT if fields.get(name) is not None), None)
    effective: str = plain_field(instant) if instant is not None else log_previous or change.recorded_at
    return max(effective, previous or "")


def _entry(row: Row) -> AuditEntry:
    event = event_from_text(row["event"])
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
