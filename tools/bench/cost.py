"""What one completed lifecycle costs: CPU seconds and bytes of storage, for sizing a machine.

Measured around the lifecycle part's timed run, from just before it until every view has caught up
with it: the CPU time of the bench's process (the worker, the projection runner and the driver, as in
`serve`) and of the Temporal dev server's process group; the bytes the events, the views and
Temporal's own database hold. On SQLite the bytes are the pages in use of each file (page count less
free pages, write-ahead log included); on PostgreSQL the tables' total size in the run's schema
(indexes and TOAST included), the events' tables apart from the views'. The PostgreSQL server's own
CPU time is not counted: it is shared with other users of the machine (see the notes of a run).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from clusterlabel.interfaces.event_store_env import postgres_connection_args
from clusterlabel.projections.runner import ViewRunner
from clusterlabel.tools.bench.procfs import group_cpu_seconds

SETTLE_SECONDS = 60.0
# The event store's tables on PostgreSQL (eventsourcing names them after the application); the rest are views'.
EVENT_TABLES = ("clusterlabel_events", "clusterlabel_snapshots")


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds so far and bytes stored now, by where they go."""

    cpu: dict[str, float]
    bytes: dict[str, int]


@dataclass(frozen=True)
class Cost:
    lifecycles: int
    before: Snapshot
    after: Snapshot

    def cpu(self) -> dict[str, float]:
        return {name: (self.after.cpu[name] - self.before.cpu[name]) / self.lifecycles for name in self.after.cpu}

    def bytes(self) -> dict[str, float]:
        return {name: (self.after.bytes[name] - self.before.bytes[name]) / self.lifecycles for name in self.after.bytes}

    def figures(self) -> dict[str, Any]:
        """`cost` in bench-results.json."""
        cpu, stored = self.cpu(), self.bytes()
        return {
            "cpu_seconds_per_lifecycle": sum(cpu.values()),
            "bytes_per_lifecycle": sum(stored.values()),
            "cpu_seconds_by_process": cpu,
            "bytes_by_store": stored,
            "lifecycles": self.lifecycles,
        }


class CostMeter:
    """Snapshots of the CPU time and storage of one lifecycle run."""

    def __init__(
        self, env: Mapping[str, str], views_dir: Path, temporal_db: Path, server_pid: int | None, runner: ViewRunner
    ) -> None:
        assert server_pid is not None
        self.env, self.views_dir, self.temporal_db = dict(env), views_dir, temporal_db
        self.server_pid, self.runner = server_pid, runner

    def snapshot(self) -> Snapshot:
        cpu = {"bench_process": time.process_time(), "temporal_server": group_cpu_seconds(self.server_pid)}
        return Snapshot(cpu, {**self._event_store_bytes(), "temporal": sqlite_bytes(self.temporal_db)})

    def settle(self, timeout: float = SETTLE_SECONDS) -> None:
        """Wait until every view has applied every event stored so far (their work is part of the cost)."""
        head, deadline = self.runner.head(), time.monotonic() + timeout
        while min(self.runner.positions().values(), default=head) < head:
            if time.monotonic() > deadline:
                raise RuntimeError(f"views still behind the log's head {head} after {timeout:.0f} s")
            time.sleep(0.02)

    def _event_store_bytes(self) -> dict[str, int]:
        if self.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
            return postgres_schema_bytes(self.env)
        views = sum(sqlite_bytes(path) for path in sorted(self.views_dir.glob("*.sqlite")))
        return {"events": sqlite_bytes(Path(self.env["SQLITE_DBNAME"])), "views": views}


def sqlite_bytes(path: Path) -> int:
    """The bytes of a SQLite file's pages in use, as a reader sees it now (its write-ahead log included)."""
    if not path.exists():
        return 0
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
        (pages,) = connection.execute("PRAGMA page_count").fetchone()
        (free,) = connection.execute("PRAGMA freelist_count").fetchone()
    finally:
        connection.close()
    return int((pages - free) * page_size)


def postgres_schema_bytes(env: Mapping[str, str]) -> dict[str, int]:
    """The total size of the tables in the env's schema: the event store's, and the views'."""
    query = (
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'"
    )
    sizes = {"events": 0, "views": 0}
    with psycopg.connect(**postgres_connection_args(env)) as connection:
        for name, size in connection.execute(query, (env["POSTGRES_SCHEMA"],)).fetchall():
            sizes["events" if name in EVENT_TABLES else "views"] += int(size)
    return sizes
