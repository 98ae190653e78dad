"""Tamper evidence: a hash chain over the stored events, and `verify` against the event table.

The chain view keeps, per stored event, the hash of its stored form (aggregate id, version,
topic, state bytes), the aggregate's chain hash (previous head + event hash) and the log's
chain hash over every event in log order. It lives in the views store, apart from the
event table, so that a change to a stored event no longer matches what the chain recorded.

`verify` re-reads the event table and reports each event altered (same place, other bytes),
removed, reordered (another event stands at its place) or inserted (an event the chain never
saw, inside the chained range); it also re-checks the chain itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification
from pydantic import BaseModel

from clusterlabel.projections.store import Row
from clusterlabel.projections.view import Change, RowCache, View


def event_hash(notification: Notification, aggregate_key: str | None = None) -> str:
    """The hash of an event's stored form; `aggregate_key` is its aggregate id as text, when known."""
    key = aggregate_key or str(UUID(str(notification.originator_id)))
    head = f"{key}|{notification.originator_version}|{notification.topic}|"
    return hashlib.sha256(head.encode() + bytes(notification.state)).hexdigest()


def chained(previous: str, link: str) -> str:
    return hashlib.sha256((previous + link).encode()).hexdigest()


class Problem(StrEnum):
    ALTERED = "altered"
    REMOVED = "removed"
    REORDERED = "reordered"
    INSERTED = "inserted"
    CHAIN_BROKEN = "chain_broken"


class Tampering(BaseModel):
    seq: int
    aggregate_id: UUID
    version: int
    problem: Problem
    detail: str


class VerifyReport(BaseModel):
    ok: bool
    checked: int
    unchained: int  # stored events the chain has not reached yet (projection lag)
    log_head: str | None
    problems: list[Tampering]


class EventChainView(View):
    name = "event_chain"
    cost = 4
    view_tables = ("event_chain", "chain_heads")
    every_event = True  # every stored event is chained; only its stored form counts, so nothing is decoded
    ddl = (
        "CREATE TABLE IF NOT EXISTS {event_chain} (notification_id BIGINT PRIMARY KEY, aggregate_id TEXT NOT NULL, "
        "version BIGINT NOT NULL, event_hash TEXT NOT NULL, aggregate_hash TEXT NOT NULL, log_hash TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {chain_heads} (aggregate_id TEXT PRIMARY KEY, version BIGINT, head TEXT)",
    )

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> dict[str, Any]:
        cursor.execute(self.q("SELECT log_hash FROM {event_chain} ORDER BY notification_id DESC LIMIT 1"))
        last = cursor.fetchone()
        heads = RowCache(self, "chain_heads", "aggregate_id").prefetch(cursor, [change.key for change in changes])
        return {"heads": heads, "log": last["log_hash"] if last else "", "rows": []}

    def handle(self, cursor: Any, batch: dict[str, Any], change: Change) -> None:
        heads: RowCache = batch["heads"]
        aggregate_id = change.key
        digest = event_hash(change.notification, aggregate_id)
        previous = heads.get(cursor, aggregate_id)
        head = chained(previous["head"] if previous else "", digest)
        batch["log"] = chained(batch["log"], digest)
        heads.put({"aggregate_id": aggregate_id, "version": change.version, "head": head})
        batch["rows"].append((change.id, aggregate_id, change.version, digest, head, batch["log"]))

    def end_batch(self, cursor: Any, batch: dict[str, Any]) -> None:
        batch["heads"].flush(cursor)
        cursor.executemany(
            self.q(
                "INSERT INTO {event_chain} (notification_id, aggregate_id, version, event_hash, aggregate_hash, log_hash) "
                "VALUES (?, ?, ?, ?, ?, ?)"
            ),
            batch["rows"],
        )

    def rows_after(self, seq: int, limit: int) -> list[Row]:
        return self.fetch(
            "SELECT * FROM {event_chain} WHERE notification_id > ? ORDER BY notification_id LIMIT ?", (seq, limit)
        )

    def log_head(self) -> str | None:
        rows = self.fetch("SELECT log_hash FROM {event_chain} ORDER BY notification_id DESC LIMIT 1")
        return rows[0]["log_hash"] if rows else None


def verify(
    recorder: ApplicationRecorder, chain: EventChainView, application_name: str, batch_size: int = 5000
) -> VerifyReport:
    """Compare every stored event with the chain, by log position (a merge of two ordered reads)."""
    position = chain.position(application_name)
    problems: list[Tampering] = []
    stored = _stored(recorder, batch_size)
    recorded = _chain_rows(chain, batch_size)
    event, row = next(stored, None), next(recorded, None)
    checked = unchained = 0
    while event is not None or row is not None:
        if row is not None and (event is None or row["notification_id"] < event.id):
            problems.append(_problem(row, Problem.REMOVED, "no stored event at this position any more"))
            row = next(recorded, None)
        elif row is None or event.id < row["notification_id"]:  # type: ignore[union-attr]
            assert event is not None
            if event.id <= position:
                problems.append(_problem_at(event, Problem.INSERTED, "stored event the chain never recorded"))
            else:
                unchained += 1
            event = next(stored, None)
        else:
            assert event is not None
            checked += 1
            found = _compare(event, row)
            if found:
                problems.append(found)
            event, row = next(stored, None), next(recorded, None)
    problems += _chain_breaks(chain, batch_size)
    problems.sort(key=lambda p: (p.seq, p.problem))
    return VerifyReport(
        ok=not problems, checked=checked, unchained=unchained, log_head=chain.log_head(), problems=problems
    )


def _compare(event: Notification, row: Row) -> Tampering | None:
    same_place = (
        str(UUID(str(event.originator_id))) == row["aggregate_id"] and event.originator_version == row["version"]
    )
    if not same_place:
        return _problem(
            row,
            Problem.REORDERED,
            f"position {row['notification_id']} now holds {event.originator_id} version {event.originator_version}",
        )
    if event_hash(event) != row["event_hash"]:
        return _problem(row, Problem.ALTERED, "stored topic or state differs from what was recorded")
    return None


def _chain_breaks(chain: EventChainView, batch_size: int) -> list[Tampering]:
    """Re-derive the chain hashes from the recorded event hashes (catches edits to the chain)."""
    heads: dict[str, str] = {}
    log = ""
    broken = []
    for row in _chain_rows(chain, batch_size):
        head = chained(heads.get(row["aggregate_id"], ""), row["event_hash"])
        log = chained(log, row["event_hash"])
        heads[row["aggregate_id"]] = head
        if head != row["aggregate_hash"] or log != row["log_hash"]:
            broken.append(_problem(row, Problem.CHAIN_BROKEN, "the recorded chain does not follow from its hashes"))
            log, heads[row["aggregate_id"]] = row["log_hash"], row["aggregate_hash"]  # report each break once
    return broken


def _stored(recorder: ApplicationRecorder, batch_size: int) -> Iterator[Notification]:
    after = 0
    while True:
        notifications = recorder.select_notifications(start=after, limit=batch_size, inclusive_of_start=False)
        yield from notifications
        if len(notifications) < batch_size:
            return
        after = notifications[-1].id


def _chain_rows(chain: EventChainView, batch_size: int) -> Iterator[Row]:
    after = 0
    while True:
        rows = chain.rows_after(after, batch_size)
        yield from rows
        if len(rows) < batch_size:
            return
        after = int(rows[-1]["notification_id"])


def _problem(row: Row, problem: Problem, detail: str) -> Tampering:
    return Tampering(
        seq=int(row["notification_id"]),
        aggregate_id=row["aggregate_id"],
        version=int(row["version"]),
        problem=problem,
        detail=detail,
    )


def _problem_at(event: Notification, problem: Problem, detail: str) -> Tampering:
    return Tampering(
        seq=event.id,
        aggregate_id=UUID(str(event.originator_id)),
        version=event.originator_version,
        problem=problem,
        detail=detail,
    )
