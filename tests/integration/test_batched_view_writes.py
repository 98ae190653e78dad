"""Views on PostgreSQL write each batch's rows in one statement per table (binary arrays, unnested);
on SQLite, one prepared statement per row. Either way the rows must be the same."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import Environment

from clusterlabel.activities.application import CertificationApp
from clusterlabel.projections.chain_key import ChainKey, new_secret
from clusterlabel.projections.factory import build_views
from clusterlabel.projections.runner import ViewRunner
from clusterlabel.projections.view import View
from clusterlabel.projections.view_store import PostgresViewStore, SQLiteViewStore, ViewStore
from tests.integration.test_projections import POLICY, World
from tests.stores import postgres_schema, sqlite_env


@pytest.fixture
def postgres_env() -> Iterator[dict[str, str]]:
    yield from postgres_schema()


@pytest.mark.postgres
def test_every_view_on_postgresql_holds_the_very_rows_it_holds_on_sqlite_for_the_same_log(
    postgres_env: dict[str, str], tmp_path: Path
) -> None:
    world = World(app=None)  # type: ignore[arg-type]
    world.app = CertificationApp(env=postgres_env, policy=POLICY, clock=lambda: world.now)
    world.build()
    key = ChainKey(new_secret())
    on_postgres = build_views(postgres_env, chain_key=key)
    on_sqlite = build_views(sqlite_env(tmp_path), tmp_path / "views", chain_key=key)
    # Small batches on one side, one batch on the other: batch edges must not change a row either.
    ViewRunner(world.app, on_postgres, batch_size=7).run_until_caught_up()
    ViewRunner(world.app, on_sqlite, batch_size=5000).run_until_caught_up()
    written = set()
    for postgres_view, sqlite_view in zip(on_postgres, on_sqlite, strict=True):
        dumped = postgres_view.dump()
        assert dumped == sqlite_view.dump(), postgres_view.name
        written |= {postgres_view.name} if any(dumped.values()) else set()
    # The comparison proves something only where the story wrote rows.
    assert written >= {"case_status", "audit_history", "event_chain", "registry", "workload", "benchmarking"}
    world.app.close()


class Samples(View):
    """A table of every column type the views use, to write rows into directly."""

    name = "samples"
    view_tables = ("samples",)
    ddl: ClassVar[tuple[str, ...]] = (
        "CREATE TABLE IF NOT EXISTS {samples} (id TEXT PRIMARY KEY, n BIGINT, ratio REAL, note TEXT, seats INTEGER)",
    )


class StoreContract:
    @pytest.fixture
    def view(self) -> ViewStore:
        raise NotImplementedError

    def rows(self, view: ViewStore) -> list[dict[str, Any]]:
        return view.fetch("SELECT id, n, ratio, note, seats FROM {samples} ORDER BY id")

    def test_an_upsert_of_many_rows_writes_each_with_its_nulls_and_replaces_what_was_there(
        self, view: ViewStore
    ) -> None:
        first = [{"id": f"r{i:05d}", "n": i, "ratio": 0.5, "note": None, "seats": None} for i in range(3000)]
        second = [{"id": f"r{i:05d}", "n": -i, "ratio": None, "note": "ü €", "seats": 2} for i in range(0, 3000, 2)]
        with view.write() as cursor:
            view.upsert(cursor, "samples", ["id"], first)
        with view.write() as cursor:
            view.upsert(cursor, "samples", ["id"], second)
        rows = self.rows(view)
        assert len(rows) == 3000
        assert rows[0] == {"id": "r00000", "n": 0, "ratio": None, "note": "ü €", "seats": 2}
        assert rows[1] == {"id": "r00001", "n": 1, "ratio": 0.5, "note": None, "seats": None}
        assert rows[2998]["n"] == -2998 and rows[2999]["n"] == 2999

    def test_a_key_given_twice_in_one_upsert_keeps_its_last_row(self, view: ViewStore) -> None:
        rows = [{"id": "a", "n": 1}, {"id": "b", "n": 2}, {"id": "a", "n": 3}]
        with view.write() as cursor:
            view.upsert(cursor, "samples", ["id"], rows)
        assert [(row["id"], row["n"]) for row in self.rows(view)] == [("a", 3), ("b", 2)]

    def test_a_batch_that_breaks_a_constraint_writes_none_of_its_rows(self, view: ViewStore) -> None:
        with pytest.raises((IntegrityError, sqlite3.IntegrityError)), view.write() as cursor:
            view.insert_rows(cursor, "samples", ["id", "n"], [("x", 1), ("y", 2), ("x", 3)])
        assert self.rows(view) == []

    def test_deleting_by_keys_removes_those_rows_and_no_other(self, view: ViewStore) -> None:
        with view.write() as cursor:
            view.insert_rows(cursor, "samples", ["id", "n"], [(name, 0) for name in "abcde"])
            view.delete_keys(cursor, "samples", "id", ["b", "d", "zz"])
        assert [row["id"] for row in self.rows(view)] == ["a", "c", "e"]


class TestWritesOnSQLite(StoreContract):
    @pytest.fixture
    def view(self, tmp_path: Path) -> ViewStore:
        concrete = type("SQLiteSamples", (Samples, SQLiteViewStore), {})
        store = concrete(datastore=SQLiteDatastore(db_name=str(tmp_path / "samples.sqlite")))
        store.create_table()
        return store


@pytest.mark.postgres
class TestWritesOnPostgreSQL(StoreContract):
    @pytest.fixture
    def view(self, postgres_env: dict[str, str]) -> ViewStore:
        concrete = type("PostgresSamples", (Samples, PostgresViewStore), {})
        datastore = PostgresFactory(Environment("VIEWS", postgres_env)).datastore
        store = concrete(datastore=datastore, tracking_table_name="samples_tracking")
        store.create_table()
        return store

    def test_a_nul_in_a_text_value_is_refused_saying_so(self, view: ViewStore) -> None:
        with pytest.raises(Exception, match=r"NUL \(0x00\)"), view.write() as cursor:
            view.insert_rows(cursor, "samples", ["id", "note"], [("a", "fine"), ("b", "nul\x00here")])
        assert self.rows(view) == []
