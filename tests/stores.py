"""The event stores the integration tests run on: a SQLite file and a PostgreSQL schema.

PostgreSQL tests skip, saying why, when no server answers on 127.0.0.1:5432 — except
under CI (CI=true), where a missing server is a failure.
"""

from __future__ import annotations

import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    from clusterlabel.activities.application import CertificationApp
    from clusterlabel.interfaces.web.services import Services
    from clusterlabel.projections.queries import ReadModels

T = TypeVar("T")
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def sqlite_env(directory: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(directory / "events.sqlite")}


def sqlite_services(directory: Path, app: CertificationApp, models: ReadModels, task_queue: str) -> Services:
    """The HTTP layer's services over `app` and `models`, each store beside the event store (tokens,
    idempotency keys, people, account tokens) a SQLite file in `directory`; Services.close_stores() closes them."""
    from clusterlabel.interfaces.web.account_tokens import COLUMNS as TOKEN_COLUMNS
    from clusterlabel.interfaces.web.account_tokens import AccountTokens
    from clusterlabel.interfaces.web.idempotency_keys import sqlite_idempotency_keys
    from clusterlabel.interfaces.web.people import COLUMNS as PEOPLE_COLUMNS
    from clusterlabel.interfaces.web.people import People
    from clusterlabel.interfaces.web.services import Services
    from clusterlabel.interfaces.web.side_tables import SQLiteSideFile
    from clusterlabel.interfaces.web.tokens import SQLiteTokenStore

    return Services(
        app,
        models,
        SQLiteTokenStore(directory / "tokens.sqlite"),
        task_queue,
        sqlite_idempotency_keys(directory / "keys.sqlite"),
        People(SQLiteSideFile(directory / "people.sqlite", "people", PEOPLE_COLUMNS)),
        AccountTokens(SQLiteSideFile(directory / "account_tokens.sqlite", "account_tokens", TOKEN_COLUMNS)),
    )


def _connect_or_skip():
    import psycopg

    try:
        return psycopg.connect(**POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI but not reachable: {error}")
        pytest.skip(f"no PostgreSQL server on 127.0.0.1:5432 ({error.__class__.__name__}); start one to run this test")


def postgres_schema() -> Iterator[dict[str, str]]:
    """A fresh schema for one test, dropped afterwards."""
    connection = _connect_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": POSTGRES["dbname"],
            "POSTGRES_HOST": POSTGRES["host"],
            "POSTGRES_PORT": str(POSTGRES["port"]),
            "POSTGRES_USER": POSTGRES["user"],
            "POSTGRES_PASSWORD": "",
            "POSTGRES_SCHEMA": schema,
            # The chain view's key, kept outside the database as a deployment keeps CLUSTERLABEL_CHAIN_KEY.
            "CHAIN_KEY": secrets.token_urlsafe(32),
        }
    finally:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")
        connection.close()


def schema_url(env: dict[str, str]) -> str:
    """The test server as a database URL naming the schema of `env` (one from postgres_schema)."""
    return f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}?schema={env['POSTGRES_SCHEMA']}"


def postgres_url() -> str:
    """The test server as a database URL (after checking that it answers)."""
    _connect_or_skip().close()
    return f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}"


def race(calls: list[Callable[[], T]]) -> list[T | None]:
    """Run every call in a thread of its own, all released at once; their results in order."""
    start, errors = threading.Barrier(len(calls)), []
    results: list[T | None] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results
