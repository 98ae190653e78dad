"""The tables the API keeps beside the event store (tokens, sessions, idempotency keys, …) share one small
pool of PostgreSQL connections in each process: a dozen tables busy at once hold a handful of the server's
connections, not a pool each, and closing one table leaves the others working."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from clusterlabel.interfaces.web.side_tables import (
    POSTGRES_POOL_SIZE,
    PostgresSideTable,
    side_tables_connection_name,
)
from tests.e2e.engine import eventually
from tests.stores import POSTGRES, postgres_schema

pytestmark = pytest.mark.postgres
TABLES = 12
ROWS = 20


def test_a_dozen_side_tables_busy_at_once_hold_a_few_connections_and_one_closed_leaves_the_rest_working() -> None:
    for env in postgres_schema():
        held_before = _connections_held()  # a table another test left open on this process, if any
        tables = [PostgresSideTable(env, f"side_{number}", "k TEXT PRIMARY KEY") for number in range(TABLES)]
        try:
            with ThreadPoolExecutor(2 * TABLES) as threads:
                list(threads.map(_fill, tables * 2))  # two threads on each table
            assert 1 <= _connections_held() <= POSTGRES_POOL_SIZE

            tables[0].close()
            tables[0].close()  # twice: the pool is given back once
            assert all(table.one("SELECT count(*) FROM {}", ()) == (ROWS,) for table in tables[1:])
        finally:
            for table in tables:
                table.close()
        # a closed connection leaves pg_stat_activity a moment later
        eventually(lambda held=held_before: _connections_held() == held or None, 10, "the connections to close")


def _fill(table: PostgresSideTable) -> None:
    for row in range(ROWS):
        table.count("INSERT INTO {} (k) VALUES ({p}) ON CONFLICT DO NOTHING", (str(row),))


def _connections_held() -> int:
    with psycopg.connect(**POSTGRES, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (side_tables_connection_name(),)
        ).fetchone()
    return int(row[0]) if row else 0
