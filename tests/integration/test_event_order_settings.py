"""No environment variable can switch off what keeps the event log's ids committed in order.

On PostgreSQL every inserting transaction takes `LOCK TABLE ... IN EXCLUSIVE MODE`, so ids
commit in the order they were issued and a view that follows the log by id never skips one.
The tests hold a ROW SHARE lock on the events table: it conflicts with that EXCLUSIVE lock
but not with the ROW EXCLUSIVE lock a plain INSERT takes, so a save that waits proves the
table lock is taken, and one that goes through proves it is not.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import Cursor

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.record_commands import RegisterCluster
from clusterlabel.interfaces.event_store_env import APP_ENV_PREFIX
from clusterlabel.interfaces.settings import Settings
from tests.builders import cluster_profile, register
from tests.stores import POSTGRES, postgres_schema

LOCK_WAIT_SECONDS = 10.0


class UnlockedRecorder(PostgresApplicationRecorder):
    """What APPLICATION_RECORDER_TOPIC could swap in: a recorder that skips the table lock."""

    def _lock_table(self, curs: Cursor) -> None:  # type: ignore[type-arg]
        pass


HOSTILE = {
    "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
    "APPLICATION_RECORDER_TOPIC": get_topic(UnlockedRecorder),
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the developer's shell exports must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith(APP_ENV_PREFIX):
            monkeypatch.delenv(name)


@pytest.fixture
def hostile_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key the order rests on set against it, plainly and with the application's prefix."""
    for key, value in {**HOSTILE, "PERSISTENCE_MODULE": "eventsourcing.popo"}.items():
        monkeypatch.setenv(key, value)
        monkeypatch.setenv(APP_ENV_PREFIX + key, value)


@pytest.fixture
def schema_env() -> Iterator[dict[str, str]]:
    yield from postgres_schema()


def settings_for(schema_env: dict[str, str]) -> Settings:
    user, host, port, dbname = (schema_env[f"POSTGRES_{key}"] for key in ("USER", "HOST", "PORT", "DBNAME"))
    return Settings(database_url=f"postgresql://{user}@{host}:{port}/{dbname}?schema={schema_env['POSTGRES_SCHEMA']}")


def test_the_pinned_keys_are_spelled_as_the_application_reads_them() -> None:
    assert CertificationApp.name.upper() + "_" == APP_ENV_PREFIX


def test_a_prefixed_variable_cannot_swap_the_chosen_store_for_another(
    tmp_path: Path, hostile_environment: None
) -> None:
    app = CertificationApp(env=Settings(data_dir=tmp_path).eventsourcing_env())

    assert type(app.recorder) is SQLiteApplicationRecorder
    app.close()


@pytest.mark.postgres
def test_hostile_variables_leave_the_postgres_recorder_on_its_locking_insert(
    schema_env: dict[str, str], hostile_environment: None
) -> None:
    app = CertificationApp(env=settings_for(schema_env).eventsourcing_env())

    assert type(app.recorder) is PostgresApplicationRecorder
    assert app.recorder.datastore.enable_db_functions is False
    assert save_waits_for_the_table_lock(app, schema_env["POSTGRES_SCHEMA"])
    app.close()


@pytest.mark.postgres
def test_without_the_pins_the_same_variables_would_insert_without_the_table_lock(
    schema_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The threat is real: eventsourcing alone lets the environment switch the lock off."""
    for key, value in HOSTILE.items():
        monkeypatch.setenv(APP_ENV_PREFIX + key, value)
        app = CertificationApp(env=schema_env)  # the store's keys only, nothing pinned

        assert not save_waits_for_the_table_lock(app, schema_env["POSTGRES_SCHEMA"]), key
        app.close()
        monkeypatch.delenv(APP_ENV_PREFIX + key)


def save_waits_for_the_table_lock(app: CertificationApp, schema: str) -> bool:
    """Whether a save blocks behind a ROW SHARE lock (only EXCLUSIVE-mode locks conflict with it)."""
    table = f'"{schema}"."{app.name}_events"'
    with psycopg.connect(**POSTGRES) as holder:  # one transaction, holding the lock until rollback
        holder.execute(f"LOCK TABLE {table} IN ROW SHARE MODE")
        saving = threading.Thread(target=register_a_cluster, args=(app,))
        saving.start()
        waited = _exclusive_lock_requested(table, saving)
        holder.rollback()
    saving.join(LOCK_WAIT_SECONDS)
    assert not saving.is_alive(), "the save never finished"
    return waited


def register_a_cluster(app: CertificationApp) -> None:
    register(
        app,
        RegisterCluster(profile=cluster_profile()),
        actor="secretariat:test",
        command_key=f"lock-{time.monotonic_ns()}",
    )


def _exclusive_lock_requested(table: str, saving: threading.Thread) -> bool:
    """True once the save waits for an EXCLUSIVE lock on the table; False if it finishes first."""
    query = "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND mode = 'ExclusiveLock' AND NOT granted"
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    with psycopg.connect(**POSTGRES, autocommit=True) as observer:
        while time.monotonic() < deadline and saving.is_alive():
            row = observer.execute(query, (table,)).fetchone()
            if row is not None and row[0] > 0:
                return True
            time.sleep(0.05)
    return False
