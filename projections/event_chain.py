"""Tamper evidence: a keyed hash chain over the stored events, and `verify` against the event table.

The chain view keeps, per stored event, the hash of its stored form (aggregate id, version,
topic, state bytes), the aggregate's chain hash (previous head + event hash) and the log's
chain hash over every event in log order. It lives in the views store, apart from the
event table, so that a change to a stored event no longer matches what the chain recorded.
The chain hashes are HMAC-SHA256 under a key kept outside the database (projections/chain_key.py),
so that whoever can rewrite both the events and the chain cannot make a chain that checks out.

`verify` re-reads the event table and reports each event altered (same place, other bytes),
removed, reordered (another event stands at its place) or inserted (an event the chain never
saw, inside the chained range); it also re-checks the chain itself, link by link under the scheme
each link records (links made before the chain had a key are reported as unkeyed, links made with
another key as such).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification
from pydantic import BaseModel

from clusterlabel.projections.chain_key import UNKEYED, ChainKey, MissingChainKey, chained, event_hash, stored_hash
from clusterlabel.projections.view import Change, RowCache, View
from clusterlabel.projections.view_store import Row

__all__ = ["ChainKey", "EventChainView", "Problem", "Tampering", "VerifyReport", "chained", "event_hash", "verify"]
CHAIN_COLUMNS = ("notification_id", "aggregate_id", "version", "event_hash", "aggregate_hash", "log_hash", "scheme")
# The chain's tables before it had a key (no scheme column): migrated in place, never dropped.
LEGACY_DDL = (
    "CREATE TABLE IF NOT EXISTS {event_chain} (notification_id BIGINT PRIMARY KEY, aggregate_id TEXT NOT NULL, "
    "version BIGINT NOT NULL, event_hash TEXT NOT NULL, aggregate_hash TEXT NOT NULL, log_hash TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {chain_heads} (aggregate_id TEXT PRIMARY KEY, version BIGINT, head TEXT)",
)


class Problem(StrEnum):
    ALTERED = "altered"
    REMOVED = "removed"
    REORDERED = "reordered"
    INSERTED = "inserted"
    CHAIN_BROKEN = "chain_broken"
    UNKEYED = "unkeyed"  # links made before the chain had a key: re-key them with `projections rebuild`
    OTHER_KEY = "other_key"  # links made with a key other than the configured one


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

    def tampering(self, rekey: bool = False) -> list[Tampering]:
        """The problems a rebuild must not paper over: every one, but for unkeyed links when the operator
        re-keys the chain made before the key (`rekey`, once after upgrading). At any other time unkeyed
        links mean the chain was recomputed by someone without the key."""
        return [problem for problem in self.problems if not (rekey and problem.problem is Problem.UNKEYED)]


class EventChainView(View):
    name = "event_chain"
    cost = 11
    view_tables = ("event_chain", "chain_heads")
    every_event = True  # every stored event is chained; only its stored form counts, so nothing is decoded
    ddl = (
        "CREATE TABLE IF NOT EXISTS {event_chain} (notification_id BIGINT PRIMARY KEY, aggregate_id TEXT NOT NULL, "
        "version BIGINT NOT NULL, event_hash TEXT NOT NULL, aggregate_hash TEXT NOT NULL, log_hash TEXT NOT NULL, "
        "scheme TEXT NOT NULL)",
        LEGACY_DDL[1],
    )
    chain_key: ChainKey | None = None  # set by the factory (projections/factory.build_views)

    def keyed(self, key: ChainKey) -> EventChainView:
        self.chain_key = key
        return self

    def key(self) -> ChainKey:
        if self.chain_key is None:
            raise MissingChainKey("the chain view has no key to make its links with")
        return self.chain_key

    def upgrade(self, cursor: Any, found_shape: str) -> bool:
        """A chain made before it had a key keeps its links, each marked unkeyed: dropping it would rebuild
        the evidence from the current log unchecked. `projections rebuild` re-keys it after verifying it.
        Any other earlier shape is refused, never dropped."""
        if found_shape != self.shape_of(LEGACY_DDL, revision=1):
            # Not a shape this code knows how to bring forward: refuse rather than drop the evidence.
            raise RuntimeError(
                f"the {self.name} view's tables have a shape ({found_shape}) this code cannot migrate in place; "
                "a chain is never dropped to be rebuilt unchecked: migrate it in EventChainView.upgrade"
            )
        cursor.execute(self.q("ALTER TABLE {event_chain} ADD COLUMN scheme TEXT NOT NULL DEFAULT 'sha256'"))
        return True

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> dict[str, Any]:
        cursor.execute(self.q("SELECT log_hash FROM {event_chain} ORDER BY notification_id DESC LIMIT 1"))
        last = cursor.fetchone()
        heads = RowCache(self, "chain_heads", "aggregate_id").prefetch(cursor, [change.key for change in changes])
        return {"heads": heads, "log": last["log_hash"] if last else "", "rows": []}

    def handle_all(self, cursor: Any, batch: dict[str, Any], changes: Sequence[Change]) -> None:
        # One loop, its names bound once (why: the chain links every event of the log, and a method call and
        # the batch's and the key's parts looked up again per event were a good part of its own work on each).
        heads: RowCache = batch["heads"]
        held, dirty, append = heads.rows, heads.dirty, batch["rows"].append
        key = self.key()
        link, scheme, log = key.link, key.scheme, batch["log"]
        for change in changes:
            aggregate_id, version = change.key, change.version
            digest = stored_hash(aggregate_id, version, change.topic, change.state)
            previous = held[aggregate_id] if aggregate_id in held else heads.get(cursor, aggregate_id)
            head = link(previous["head"] if previous else "", digest)
            log = link(log, digest)
            held[aggregate_id] = {"aggregate_id": aggregate_id, "version": version, "head": head}  # heads.put()
            dirty.add(aggregate_id)
            append((change.id, aggregate_id, version, digest, head, log, scheme))
        batch["log"] = log

    def end_batch(self, cursor: Any, batch: dict[str, Any]) -> None:
        batch["heads"].flush(cursor)
        self.insert_rows(cursor, "event_chain", CHAIN_COLUMNS, batch["rows"])

    def rows_after(self, seq: int, limit: int) -> list[Row]:
        return self.fetch(
            "SELECT * FROM {event_chain} WHERE notification_id > ? ORDER BY notification_id LIMIT ?", (seq, limit)
        )

    def log_head(self) -> str | None:
        last = self.last_link()
        return last["log_hash"] if last else None

    def last_link(self) -> Row | None:
        rows = self.fetch("SELECT * FROM {event_chain} ORDER BY notification_id DESC LIMIT 1")
        return rows[0] if rows else None

    def link_at(self, position: int) -> Row | None:
        rows = self.fetch("SELECT * FROM {event_chain} WHERE notification_id = ?", (position,))
        return rows[0] if rows else None

    def links_through(self, position: int) -> int:
        """How many links the chain has up to and including `position`."""
        rows = self.fetch("SELECT COUNT(*) AS links FROM {event_chain} WHERE notification_id <= ?", (position,))
        return int(rows[0]["links"])


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
    """Re-derive the chain hashes from the recorded event hashes, each link under its own scheme (catches
    edits to the chain; without the key, a recomputed chain does not check out). A run of unkeyed links,
    or of links made with another key, is reported once, at its first link."""
    key = chain.key()
    heads: dict[str, str] = {}
    log = ""
    broken: list[Tampering] = []
    run: tuple[Problem, str] | None = None
    keyed = False  # a keyed link seen: the chain has had its key since, and every later link must use one
    for row in _chain_rows(chain, batch_size):
        previous = heads.get(row["aggregate_id"], "")
        head = key.relink(row["scheme"], previous, row["event_hash"])
        linked = key.relink(row["scheme"], log, row["event_hash"])
        heads[row["aggregate_id"]], log = row["aggregate_hash"], row["log_hash"]  # each break reported once
        if keyed and row["scheme"] == UNKEYED:
            broken.append(
                _problem(row, Problem.CHAIN_BROKEN, "an unkeyed link after keyed ones: rewritten without the key")
            )
            continue
        keyed = keyed or row["scheme"] != UNKEYED
        scheme_problem = _scheme_problem(row["scheme"], head is None)
        if scheme_problem is not None and scheme_problem != run:
            broken.append(_problem(row, scheme_problem[0], scheme_problem[1]))
        run = scheme_problem
        if head is not None and (head != row["aggregate_hash"] or linked != row["log_hash"]):
            broken.append(_problem(row, Problem.CHAIN_BROKEN, "the recorded chain does not follow from its hashes"))
    return broken


def _scheme_problem(scheme: str, foreign: bool) -> tuple[Problem, str] | None:
    if foreign:
        return Problem.OTHER_KEY, f"this link (and any right after it) was made with another key ({scheme})"
    if scheme == UNKEYED:
        return Problem.UNKEYED, (
            "this link (and any right after it) was made before the chain had a key; "
            "if they predate the key, re-key them with `clusterlabel projections rebuild --views event_chain --rekey` "
            "(it verifies first); if not, the chain was recomputed without the key"
        )
    return None


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
