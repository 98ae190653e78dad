"""Where views live: eventsourcing tracking recorders with view tables beside their tracking.

A view is a mixin (its tables and how an event changes them) combined with one of the two
store bases below. Each base gives the view the same four things, so that the view's SQL
is written once for both stores: `q()` (placeholders and qualified table names), `write()`
(a transaction that holds the view's write lock), `read()`, and the tracking table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import lru_cache
from operator import itemgetter
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from pydantic import BaseModel

from clusterlabel.projections.pg_columns import array_column, insert_columns

Row = dict[str, Any]
WAL_CHECKPOINT_PAGES = 16_000  # of SQLite's 4 KiB pages
DDL_LOCK = "clusterlabel views: tables"
PARKED_ROWS = "SELECT view, NULL FROM {parked_views}"  # beside the views' positions: a parked view's row is NULL
KEYS_PER_QUERY = 500  # keys per query, well under either store's parameter limit
_ZERO = timedelta(0)


@lru_cache(maxsize=8192)
def stamp(instant: datetime | None) -> str | None:
    """An instant as fixed-width UTC text, so that text order is time order in both stores.

    Cached: several views stamp the same instants of the same events during catch-up.
    """
    if instant is None:
        return None
    if instant.utcoffset() != _ZERO:
        instant = instant.astimezone(UTC)
    return instant.replace(tzinfo=UTC).isoformat(timespec="microseconds")


# What a reader typed, as a LIKE pattern for `LOWER(column) LIKE ? ESCAPE '!'`: its wildcards taken
# literally, and lower-cased, since PostgreSQL's LIKE minds case and SQLite's does not.
LIKE_ESCAPE = "ESCAPE '!'"


def _literally(text: str) -> str:
    return text.strip().lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")


def containing(text: str) -> str:
    return f"%{_literally(text)}%"


def starting(text: str) -> str:
    return f"{_literally(text)}%"


class Conditions:
    """A query's WHERE clause, a condition at a time, with the parameters each one takes in order."""

    def __init__(self) -> None:
        self.clauses = ["1 = 1"]  # a valid WHERE clause when no condition is added
        self.params: list[str | None] = []

    def add(self, clause: str, *params: str | None) -> None:
        self.clauses.append(clause)
        self.params += params

    def search(self, text: str | None, *, start_of: str, part_of: str) -> None:
        """Given `text`, a row whose `start_of` starts with it or whose `part_of` contains it, in any case
        (both columns as the LIKE patterns expect them: lower-cased, or lower-case already)."""
        if text:
            self.add(
                f"({start_of} LIKE ? {LIKE_ESCAPE} OR {part_of} LIKE ? {LIKE_ESCAPE})", starting(text), containing(text)
            )

    def sql(self) -> str:
        return " AND ".join(self.clauses)


def unstamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def unstamped(row: Row, *instants: str) -> dict[str, Any]:
    """A row as a model takes it: the named instant columns read back from their stamps."""
    return {**row, **{column: unstamp(row[column]) for column in instants}}


def plain(value: Any) -> Any:
    """A value as plain JSON data: ids and instants as text, sets as sorted lists."""
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, (UUID, Enum)):
        return str(value.value if isinstance(value, Enum) else value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"))


class ViewStore:
    """What a view needs from its store; implemented by the SQLite and PostgreSQL bases."""

    placeholder: ClassVar[str]
    view_tables: ClassVar[tuple[str, ...]] = ()

    def table(self, name: str) -> str:
        raise NotImplementedError

    def write(self) -> Any:
        raise NotImplementedError

    def ddl_lock(self) -> Any:
        """Held while the view creates or checks its tables (a no-op where writes already serialise)."""
        return nullcontext()

    def read(self) -> Any:
        return self.datastore.transaction(commit=False)  # type: ignore[attr-defined]

    def q(self, sql: str) -> str:
        """SQL written with `?` and `{table}` fields, made ready for this store (cached)."""
        cache: dict[str, str] = self.__dict__.setdefault("_q_cache", {})
        ready = cache.get(sql)
        if ready is None:
            names = {name: self.table(name) for name in (*self.view_tables, "tracking", "view_shapes", "parked_views")}
            ready = cache[sql] = self.dialect(sql.format(**names).replace("?", self.placeholder))
        return ready

    def dialect(self, sql: str) -> str:
        """SQL written for both stores, adjusted for this one."""
        return sql

    # ---- tracking, inside a view transaction --------------------------------------------

    def tracked(self, cursor: Any, application_name: str) -> int:
        return self._max_tracking_id(application_name, cursor) or 0  # type: ignore[attr-defined]

    def track(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]

    def position(self, application_name: str) -> int:
        return self.max_tracking_id(application_name) or 0  # type: ignore[attr-defined]

    def standings(self, views: Sequence[Any], application_name: str) -> dict[str, int | None] | None:
        return None  # each view's position (None: parked) read at once, where the store can: PostgreSQL's

    # ---- small SQL helpers ----------------------------------------------------------------

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.read() as cursor:
            cursor.execute(self.q(sql), tuple(params))
            return [dict(row) for row in cursor.fetchall()]

    def upsert(
        self, cursor: Any, table: str, key: Sequence[str], rows: Sequence[Row], changing: Sequence[str] | None = None
    ) -> None:
        """Insert or replace whole rows, in as few statements as the store allows (why: fast catch-up).

        A key given twice keeps its last row, as replacing one row after another would. `changing` names
        the only columns a row already there can change (all but the key when None): an update that sets
        an indexed column, even to its own value, rewrites that column's index entry on SQLite."""
        if not rows:
            return
        columns = list(rows[0])
        kept = [c for c in columns if c not in key] if changing is None else list(changing)
        updates = ", ".join(f"{c} = excluded.{c}" for c in kept) or f"{key[0]} = excluded.{key[0]}"
        pick = itemgetter(*columns)
        if len(key) == 1:
            last_by_key = {row[key[0]]: row for row in rows}
        else:
            last_by_key = {tuple(row[k] for k in key): row for row in rows}
        self.insert_rows(
            cursor,
            table,
            columns,
            [pick(row) if len(columns) > 1 else (pick(row),) for row in last_by_key.values()],
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
        )

    def insert_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], on_conflict: str = ""
    ) -> None:
        """INSERT `rows` (values in `columns` order) into `table`, `on_conflict` its ON CONFLICT clause.

        With an ON CONFLICT ... DO UPDATE clause, no two rows may share a key: PostgreSQL writes
        several rows in one statement, and one statement may not update the same row twice."""
        if rows:
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {{{table}}} ({', '.join(columns)}) VALUES ({marks}) {on_conflict}"
            cursor.executemany(self.q(sql), rows)

    def rows_where_in(self, cursor: Any, select: str, column: str, keys: Sequence[Any]) -> Iterator[Row]:
        """`select` WHERE `column` IN `keys`, in a few queries of at most KEYS_PER_QUERY keys each."""
        for start in range(0, len(keys), KEYS_PER_QUERY):
            chunk = list(keys[start : start + KEYS_PER_QUERY])
            marks = ", ".join("?" for _ in chunk)
            cursor.execute(self.q(f"{select} WHERE {column} IN ({marks})"), chunk)
            yield from cursor.fetchall()

    def delete_keys(self, cursor: Any, table: str, column: str, keys: Sequence[Any]) -> None:
        """DELETE the rows of `table` whose `column` is one of `keys`."""
        if keys:
            cursor.executemany(self.q(f"DELETE FROM {{{table}}} WHERE {column} = ?"), [(key,) for key in keys])


class SQLiteViewStore(ViewStore, SQLiteTrackingRecorder):
    """A view in its own SQLite file: the file's single-row tracking table is the view's."""

    placeholder = "?"

    def table(self, name: str) -> str:
        return name

    def dialect(self, sql: str) -> str:
        # An INTEGER PRIMARY KEY is the row id itself (64-bit in SQLite), where BIGINT would add a
        # second b-tree to every insert.
        return sql.replace("BIGINT PRIMARY KEY", "INTEGER PRIMARY KEY")

    @contextmanager
    def write(self) -> Iterator[Any]:
        # BEGIN IMMEDIATE takes the file's write lock before the tracking position is read,
        # so a second runner (thread or process) waits instead of applying the same batch.
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            # A view is rebuildable from the log, so it need not wait for the disk at every commit:
            # in WAL mode a crash can lose its last batches (tracking with them), never corrupt it;
            # the runner then applies those batches again. The event store keeps full durability.
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint (and fsync) every 64 MB of log rather than every 4 MB: a catch-up writes
            # views in bulk, and each checkpoint's fsync cost more than the rows it carried.
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                connection.rollback()
                raise
            connection.commit()


class PostgresViewStore(ViewStore, PostgresTrackingRecorder):
    """A view's tables in a PostgreSQL schema, beside its own `<view>_tracking` table."""

    placeholder = "%s"

    def table(self, name: str) -> str:
        actual = self.tracking_table_name if name == "tracking" else name
        return f'"{self.datastore.schema}"."{actual}"'

    @contextmanager
    def ddl_lock(self) -> Iterator[None]:
        # PostgreSQL refuses concurrent CREATE TABLE IF NOT EXISTS on the same name ("tuple
        # concurrently updated"), and runners in several processes start together: one at a time.
        with self.datastore.get_connection() as connection:
            connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (DDL_LOCK,))
            try:
                yield
            finally:
                connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (DDL_LOCK,))

    @contextmanager
    def write(self) -> Iterator[Any]:
        # A transaction-scoped advisory lock per view serialises runners, so the tracking
        # position read at the start cannot move before this transaction commits.
        # A view is rebuildable from the log, so its commit need not wait for the disk (as on SQLite):
        # a crash can lose its last batches, tracking with them, and the runner applies them again.
        # The event store keeps full durability. Both in one round trip.
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s)), set_config('synchronous_commit', 'off', true)",
                (self.table("tracking"),),
            )
            yield cursor

    def insert_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], on_conflict: str = ""
    ) -> None:
        """As ViewStore.insert_rows, in one statement: each column's values sent as one binary array, unnested.

        Why: a statement per row, even pipelined, costs the server a round of binding and executor start-up
        per row, the bulk of a catch-up's writes; a statement of many VALUES rows costs psycopg a parse of
        its text in Python for every placeholder; arrays in text form, a regex per value. Binary arrays of
        a short statement, the same for every batch (so prepared once), cost a few µs a row."""
        if not rows:
            return
        types = self._column_types(cursor, table)
        arrays = ", ".join(f"%b::{types[column]}[]" for column in columns)
        sql = f"INSERT INTO {{{table}}} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) {on_conflict}"
        insert_columns(cursor, self.q(sql), rows, table)  # each column one array, packed fast (pg_columns.py)

    def _column_types(self, cursor: Any, table: str) -> dict[str, str]:
        """The SQL type of each of `table`'s columns, read from the catalogue once per table."""
        known: dict[str, dict[str, str]] = self.__dict__.setdefault("_column_types_cache", {})
        if table not in known:
            cursor.execute(
                "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (self.table(table),),
            )
            known[table] = {row["attname"]: row["type"] for row in cursor.fetchall()}
        return known[table]

    def standings(self, views: Sequence[Any], application_name: str) -> dict[str, int | None] | None:
        # One round trip for all the views (view by view: 28, 10-40 ms, every REACHED_TRUSTED_SECONDS).
        if any(getattr(view, "datastore", None) is not self.datastore for view in views):
            return None
        each = "SELECT ? AS view, COALESCE((SELECT MAX(notification_id) FROM {} WHERE application_name = ?), 0) AS at"
        sql = " UNION ALL ".join([*(each.format(view.table("tracking")) for view in views), PARKED_ROWS])
        params = [value for view in views for value in (view.name, application_name)]
        with self.datastore.get_connection() as connection:  # one statement: no BEGIN and ROLLBACK around it
            rows = connection.execute(self.q(sql), params).fetchall() if views else []
        parked = {row["view"] for row in rows if row["at"] is None}
        at = {row["view"]: row["at"] for row in rows if row["at"] is not None}
        return {view.name: None if view.name in parked else at[view.name] for view in views}

    def rows_where_in(self, cursor: Any, select: str, column: str, keys: Sequence[Any]) -> Iterator[Row]:
        # One query with the keys as one array: the same short text every time, where IN (%s, …) of
        # hundreds of keys costs psycopg a parse in Python of every placeholder.
        if keys:
            cursor.execute(self.q(f"{select} WHERE {column} = ANY(?)"), (array_column(keys),))
            yield from cursor.fetchall()

    def delete_keys(self, cursor: Any, table: str, column: str, keys: Sequence[Any]) -> None:
        # One statement with the keys as an array, however many there are.
        if keys:
            cursor.execute(self.q(f"DELETE FROM {{{table}}} WHERE {column} = ANY(?)"), (list(keys),))
