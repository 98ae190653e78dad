"""deploy/postgres/events-append-only.sql on the real server: the application's role appends events and
keeps its views, and can neither change, remove, truncate nor drop an event, nor switch the guard off."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.record_commands import RegisterCluster
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.tokens import open_token_store
from clusterlabel.projections.chain_key import ChainKey
from clusterlabel.projections.factory import open_read_models
from tests.builders import cluster_profile, register
from tests.stores import POSTGRES, postgres_url

pytestmark = pytest.mark.postgres
GRANTS = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "events-append-only.sql"


@pytest.fixture
def schema_and_role() -> Iterator[tuple[str, str]]:
    """A fresh schema and application role, with the grants applied (twice: the file is safe to run again)."""
    import psycopg

    postgres_url()  # skips, saying why, when no server answers
    name = f"t_{uuid.uuid4().hex[:12]}"
    schema, role = name, f"{name}_app"
    with psycopg.connect(**POSTGRES, autocommit=True) as owner:
        owner.execute(f"CREATE SCHEMA {schema}")
        try:
            for _ in range(2):
                with owner.transaction():
                    owner.execute(f"SET LOCAL clusterlabel.schema = '{schema}'")
                    owner.execute(f"SET LOCAL clusterlabel.app_role = '{role}'")
                    owner.execute(GRANTS.read_text(encoding="utf-8"))
            yield schema, role
        finally:
            owner.execute(f"DROP SCHEMA {schema} CASCADE")
            owner.execute(f"DROP OWNED BY {role}")
            owner.execute(f"DROP ROLE {role}")


def as_role(role: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(**{**POSTGRES, "user": role}, autocommit=True) as connection:
        connection.execute(sql)


def settings_for(schema: str, role: str) -> Settings:
    url = f"postgresql://{role}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}?schema={schema}"
    return Settings(database_url=url, event_table_append_only=True)


def test_the_application_role_appends_events_and_keeps_its_views_and_tokens(schema_and_role: tuple[str, str]) -> None:
    schema, role = schema_and_role
    settings = settings_for(schema, role)
    env: dict[str, Any] = settings.eventsourcing_env()
    tokens = open_token_store(settings)
    assert tokens.ensure_admin_token() is not None
    tokens.close()
    app = CertificationApp(env=env)
    try:
        for number in range(3):
            register(app, RegisterCluster(profile=cluster_profile(name=f"Cluster {number}")), actor="secretariat:sam")
        with open_read_models(env, app, chain_key=ChainKey.random()) as models:
            models.catch_up()
            assert models.verify().ok and models.verify().checked == 3
    finally:
        app.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {events} SET topic = 'forged'",
        "DELETE FROM {events}",
        "TRUNCATE {events}",
        "DROP TABLE {events}",
        "ALTER TABLE {events} DISABLE TRIGGER ALL",
    ],
    ids=["update", "delete", "truncate", "drop", "disable-the-guard"],
)
def test_the_application_role_cannot_change_or_remove_an_event(
    schema_and_role: tuple[str, str], statement: str
) -> None:
    import psycopg

    schema, role = schema_and_role
    app = CertificationApp(env=settings_for(schema, role).eventsourcing_env())
    register(app, RegisterCluster(profile=cluster_profile()), actor="secretariat:sam")
    app.close()

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_role(role, statement.format(events=f"{schema}.clusterlabel_events"))

    with psycopg.connect(**POSTGRES) as owner:
        assert owner.execute(f"SELECT count(*), min(topic) FROM {schema}.clusterlabel_events").fetchone()[0] == 1
