"""Small tables the HTTP layer keeps beside the event store (the API tokens, the idempotency keys).

Beside it, not in it: what they hold is no business fact, and the event log is append-only. With the
embedded SQLite store each table lives in a file of its own in the data directory; with PostgreSQL, in
the event store's schema, so that every API process on that database shares it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from psycopg.sql import SQL, Composed, Identifier
from psycopg_pool import ConnectionPool

from clusterlabel.interfaces.event_store_env import POSTGRES_CONNECT_TIMEOUT_SECONDS, postgres_connection_args
from clusterlabel.interfaces.settings import Settings

# One pool for every side table of a process: each request costs a statement or two on an indexed key,
# so a few connections serve the API's thread pool, whichever tables it reads. A pool per table (4 each)
# held a dozen tables' worth of connections; shared, a burst on one table can keep a request to another
# waiting for a connection, for POSTGRES_CONNECT_TIMEOUT_SECONDS at most.
POSTGRES_POOL_SIZE = 8


class SQLiteSideFile:
    """One SQLite file, its table created on opening; one connection, safe to share between threads.

    Statements may name the table as `{}` and a parameter as `{p}`, as for PostgresSideTable.
    """

    placeholder = "?"

    def __init__(self, path: Path, table: str, columns: str) -> None:
        self.location = str(path)
        self.table = table
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)  # nobody else needs to read it
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=wal")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def one(self, statement: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row of one statement, which is a transaction of its own."""
        with self._lock:
            # Every row fetched: a statement stepped part of the way (INSERT … RETURNING) would hold its transaction open.
            rows: list[tuple[Any, ...]] = self._db.execute(self._sql(statement), params).fetchall()
        return rows[0] if rows else None

    def rows(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(self._sql(statement), params).fetchall()

    def count(self, statement: str, params: tuple[Any, ...]) -> int:
        """How many rows the statement changed."""
        with self._lock:
            return self._db.execute(self._sql(statement), params).rowcount

    def _sql(self, statement: str) -> str:
        return statement.format(self.table, p=self.placeholder)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the file's write lock up front: another process cannot write between our statements.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


class PostgresSideTable:
    """One table in the event store's schema, created on opening if absent, reached through the pool its
    process shares among all its side tables on that database (SharedPools).

    Statements name the table as `{}` and may write a parameter as `{p}`; each runs in a transaction of
    its own.
    """

    placeholder = "%s"

    def __init__(self, env: Mapping[str, str], table: str, columns: str) -> None:
        schema = env.get("POSTGRES_SCHEMA") or "public"  # where eventsourcing puts the events, too
        self.location = f"the PostgreSQL table {schema}.{table} (database {env['POSTGRES_DBNAME']})"
        self.table = Identifier(schema, table)
        self._closing = threading.Lock()
        self._pool: ConnectionPool | None = _SHARED_POOLS.take(postgres_connection_args(env))
        try:
            self._create(f"{schema}.{table}", columns)
        except BaseException:
            self.close()
            raise

    @property
    def _connections(self) -> ConnectionPool:
        if self._pool is None:
            raise RuntimeError(f"{self.location} is closed")
        return self._pool

    def close(self) -> None:
        """Give the pool back, once however many threads close the table."""
        with self._closing:
            pool, self._pool = self._pool, None
        if pool is not None:
            _SHARED_POOLS.give_back(pool)

    def one(self, statement: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row the statement returns (None when it returns none)."""
        with self._connections.connection() as db:
            cursor = db.execute(self._sql(statement), params)
            return cursor.fetchone() if cursor.description is not None else None

    def rows(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._connections.connection() as db:
            return db.execute(self._sql(statement), params).fetchall()

    def count(self, statement: str, params: tuple[Any, ...]) -> int:
        """How many rows the statement changed."""
        with self._connections.connection() as db:
            return db.execute(self._sql(statement), params).rowcount

    def _sql(self, statement: str) -> Composed:
        # Statements are the modules' own constants, never input.
        return SQL(statement.replace("{p}", self.placeholder)).format(self.table)

    def _create(self, name: str, columns: str) -> None:
        with self._connections.connection() as db, db.transaction():
            # API processes starting together would race: CREATE TABLE IF NOT EXISTS is not atomic here.
            db.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))
            db.execute(self._sql("CREATE TABLE IF NOT EXISTS {} (" + columns + ")"))


class SharedPools:
    """The side tables' connection pools, one per database a process reaches, each open while a table uses it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple[tuple[str, Any], ...], tuple[ConnectionPool, int]] = {}

    def take(self, connection_args: Mapping[str, Any]) -> ConnectionPool:
        """The pool of that database, opened for its first table."""
        key = tuple(sorted(connection_args.items()))
        with self._lock:
            pool, users = self._pools.get(key) or (self._open(connection_args), 0)
            self._pools[key] = (pool, users + 1)
            return pool

    def give_back(self, pool: ConnectionPool) -> None:
        """One table fewer on the pool; closed with its last (outside the lock: closing waits for its
        connections to come back, and another table may be opening meanwhile)."""
        with self._lock:
            key = next(key for key, (held, _) in self._pools.items() if held is pool)
            users = self._pools[key][1] - 1
            if users:
                self._pools[key] = (pool, users)
            else:
                del self._pools[key]
        if not users:
            pool.close()

    @staticmethod
    def _open(connection_args: Mapping[str, Any]) -> ConnectionPool:
        return ConnectionPool(
            # named for pg_stat_activity: an operator sees which process holds which connections
            kwargs={**connection_args, "application_name": side_tables_connection_name()},
            min_size=1,
            max_size=POSTGRES_POOL_SIZE,
            timeout=POSTGRES_CONNECT_TIMEOUT_SECONDS,
            name="clusterlabel_side_tables",
            open=True,
        )


_SHARED_POOLS = SharedPools()


def side_tables_connection_name() -> str:
    """The application_name of this process's side-table connections: the host names the pod, where each
    process is the container's first (PostgreSQL keeps 63 characters)."""
    return f"clusterlabel side tables {socket.gethostname()} {os.getpid()}"[:63]


class SideTable(Protocol):
    """What both kinds offer: statements name the table `{}` and each parameter `{p}`."""

    location: str

    def one(self, statement: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None: ...
    def rows(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...
    def count(self, statement: str, params: tuple[Any, ...]) -> int: ...
    def close(self) -> None: ...


def open_side_table(settings: Settings, name: str, columns: str) -> SideTable:
    """The table `name` beside the settings' event store: <data_dir>/<name>.sqlite with the embedded
    store, the table clusterlabel_<name> in the event store's schema with PostgreSQL. Columns must be
    portable between the two (TEXT for instants, in ISO 8601 UTC, which sorts as time does)."""
    if settings.store() == "postgres":
        return PostgresSideTable(settings.eventsourcing_env(), f"clusterlabel_{name}", columns)
    return SQLiteSideFile(settings.ensure_data_dir() / f"{name}.sqlite", name, columns)


def wall_clock() -> datetime:
    """Now, on the wall clock: the credentials' lifetimes are a security matter, not business time.
    (Tests move it by replacing this function on the module.)"""
    return datetime.now(UTC)


def instant_text(at: datetime) -> str:
    """An instant as the side tables keep it: ISO 8601 in UTC, to the second, which sorts as time does."""
    return at.astimezone(UTC).isoformat(timespec="seconds")


class SideStore:
    """A store kept in one side table: where it is (for an operator) and closing it."""

    def __init__(self, table: SideTable) -> None:
        self._table = table
        self.location = table.location

    def close(self) -> None:
        self._table.close()


class AccountSideStore(SideStore):
    """A side store whose rows each belong to one account (an `account_id` column)."""

    def forget_account(self, account_id: UUID) -> int:
        """Delete every row of the account, for its erasure: what is erased is gone, not merely unusable."""
        return self._table.count("DELETE FROM {} WHERE account_id = {p}", (str(account_id),))
