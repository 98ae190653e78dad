"""Settings read from CLUSTERLABEL_* variables select the event store and refuse unsafe set-ups."""

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from pydantic import ValidationError
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from clusterlabel.interfaces.event_store_env import pinned_ordering_keys
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.worker import workflow_runner

# Where a live PostgreSQL is expected (CI starts one); the tests needing it skip when it is absent.
LIVE_DATABASE_URL = os.environ.get("CLUSTERLABEL_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the developer's shell exports must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith("CLUSTERLABEL_"):
            monkeypatch.delenv(name)


class Note(Aggregate):
    """A throwaway aggregate proving the generated env opens a working event store."""

    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


class SettingsProbe(Application):
    """Its own name gives it its own table (settingsprobe_events) in a shared database."""


def test_the_default_event_store_is_an_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "state")

    env = settings.eventsourcing_env()

    assert settings.store() == "sqlite"
    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "state" / "events.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "5",
        **pinned_ordering_keys("eventsourcing.sqlite"),
    }


def test_events_written_with_the_default_settings_are_still_there_for_the_next_process(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "state")
    settings.ensure_data_dir()

    writer = SettingsProbe(env=settings.eventsourcing_env())
    note = Note("remember me")
    writer.save(note)
    writer.close()
    reader = SettingsProbe(env=settings.eventsourcing_env())

    assert reader.repository.get(note.id).text == "remember me"
    assert (tmp_path / "state" / "events.sqlite").is_file()
    reader.close()


def test_a_relative_data_dir_is_pinned_so_the_store_does_not_move_with_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    dbname = Settings().eventsourcing_env()["SQLITE_DBNAME"]

    assert dbname == str(tmp_path / ".clusterlabel" / "events.sqlite")


def test_ensure_data_dir_creates_the_directory_with_its_parents(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "a" / "b")

    settings.ensure_data_dir()
    settings.ensure_data_dir()  # a second start finds it in place

    assert (tmp_path / "a" / "b").is_dir()


def test_a_postgres_url_becomes_the_postgres_env_eventsourcing_reads() -> None:
    settings = Settings(database_url="postgresql://labels:s%40cret@db.example:6543/clusterlabel?schema=ecei")

    assert settings.store() == "postgres"
    assert settings.eventsourcing_env() == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "clusterlabel",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "labels",
        "POSTGRES_PASSWORD": "s@cret",
        "POSTGRES_SCHEMA": "ecei",
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        **pinned_ordering_keys("eventsourcing.postgres"),
    }


def test_the_postgres_pool_is_sized_from_the_settings_and_reaches_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERLABEL_POSTGRES_POOL_SIZE", "12")
    monkeypatch.setenv("CLUSTERLABEL_POSTGRES_MAX_OVERFLOW", "0")
    settings = Settings(database_url=LIVE_DATABASE_URL)
    env = settings.eventsourcing_env()
    assert (env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"]) == ("12", "0")
    with pytest.raises(ValidationError, match="postgres_pool_size"):
        Settings(database_url=LIVE_DATABASE_URL, postgres_pool_size=0)


def test_a_worker_cache_too_small_for_the_workflows_in_flight_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERLABEL_WORKER_CACHED_WORKFLOWS", "250")
    assert Settings().worker_cached_workflows == 250
    monkeypatch.setenv("CLUSTERLABEL_WORKER_CACHED_WORKFLOWS", "10")
    with pytest.raises(ValidationError, match="worker_cached_workflows"):
        Settings()


def test_the_workflow_code_runs_outside_the_sandbox_unless_checked_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(workflow_runner(Settings().workflow_sandbox), UnsandboxedWorkflowRunner)
    monkeypatch.setenv("CLUSTERLABEL_WORKFLOW_SANDBOX", "checked")
    assert isinstance(workflow_runner(Settings().workflow_sandbox), SandboxedWorkflowRunner)
    monkeypatch.setenv("CLUSTERLABEL_WORKFLOW_SANDBOX", "shared")
    with pytest.raises(ValidationError, match="workflow_sandbox"):
        Settings()


def test_a_postgres_url_without_port_or_password_uses_5432_and_an_empty_password() -> None:
    env = Settings(database_url="postgresql://postgres@localhost/events").eventsourcing_env()

    assert env["POSTGRES_PORT"] == "5432"
    assert env["POSTGRES_PASSWORD"] == ""  # eventsourcing needs the key; trust auth needs no value
    assert "POSTGRES_SCHEMA" not in env


def _postgres_is_reachable(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


@pytest.mark.postgres
def test_events_written_with_a_postgres_url_are_read_back_from_postgres() -> None:
    if not _postgres_is_reachable(LIVE_DATABASE_URL):
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI but not reachable at {LIVE_DATABASE_URL}")
        pytest.skip(f"no PostgreSQL at {LIVE_DATABASE_URL}")
    settings = Settings(database_url=LIVE_DATABASE_URL)

    writer = SettingsProbe(env=settings.eventsourcing_env())
    note = Note(f"kept in postgres {uuid.uuid4()}")
    writer.save(note)
    reader = SettingsProbe(env=settings.eventsourcing_env())

    assert reader.repository.get(note.id).text == note.text
    assert reader.recorder.datastore.pool.max_size == settings.postgres_pool_size + settings.postgres_max_overflow
    writer.close()
    reader.close()


def test_a_database_url_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"must be a postgresql://.*got scheme 'mysql'"):
        Settings(database_url="mysql://root:pw@localhost/labels")


def test_a_postgres_url_without_a_database_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="lacks the database name"):
        Settings(database_url="postgresql://postgres@localhost")


def test_a_refused_database_url_does_not_echo_its_password() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="mysql://root:hunter2@localhost/labels")

    assert "hunter2" not in str(refused.value)


def test_a_tls_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="temporal_tls_cert and temporal_tls_key must be given together"):
        Settings(temporal_address="temporal.example:7233", temporal_tls_cert=tmp_path / "client.pem")


def test_a_tls_key_without_its_certificate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="must be given together"):
        Settings(temporal_address="temporal.example:7233", temporal_tls_key=tmp_path / "client.key")


def test_production_without_an_admin_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="production requires an admin token: set CLUSTERLABEL_ADMIN_TOKEN"):
        Settings(environment="production", temporal_address="temporal.example:7233")


STRONG_TOKEN = "Vq3x9LwZr8TnE2pYc6KjH4sDf7GbMa1u"


@pytest.mark.parametrize(
    ("token", "refusal"),
    [
        ("s3cret", "at least 32 characters"),
        ("replace-with-a-long-random-token", "example placeholder"),
    ],
)
def test_production_refuses_a_short_or_placeholder_admin_token(token: str, refusal: str) -> None:
    with pytest.raises(ValidationError, match=refusal):
        Settings(environment="production", admin_token=token, chain_key="k" * 43, temporal_address="t.example:7233")


def test_production_on_the_embedded_temporal_server_is_refused() -> None:
    with pytest.raises(ValidationError, match="production must not use the embedded Temporal dev server"):
        Settings(environment="production", admin_token=STRONG_TOKEN)


def test_production_without_a_chain_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="production requires a key for the tamper-evidence chain"):
        Settings(environment="production", admin_token=STRONG_TOKEN, temporal_address="temporal.example:7233")


def test_staff_need_a_second_factor_in_production_unless_told_otherwise_and_in_development_only_when_told() -> None:
    production = {
        "environment": "production",
        "admin_token": STRONG_TOKEN,
        "chain_key": "k" * 43,
        "temporal_address": "temporal.example:7233",
        "smtp_url": "smtp://smtp.example:25",
    }
    assert Settings(**production).totp_required_for_staff()
    assert not Settings(**production, require_totp_for_staff=False).totp_required_for_staff()
    assert not Settings(environment="development").totp_required_for_staff()
    assert Settings(environment="development", require_totp_for_staff=True).totp_required_for_staff()


def test_production_with_a_token_a_chain_key_a_temporal_cluster_and_a_mail_server_is_accepted() -> None:
    settings = Settings(
        environment="production",
        admin_token=STRONG_TOKEN,
        chain_key="k" * 43,
        temporal_address="temporal.example:7233",
        smtp_url="smtp://mailer:pw@smtp.example:587?starttls=true",
    )

    assert settings.environment == "production"
    assert "k" * 43 not in repr(settings)


def test_an_append_only_event_table_is_not_created_by_the_application() -> None:
    assert Settings(event_table_append_only=True).eventsourcing_env()["CREATE_TABLE"] == "n"
    assert "CREATE_TABLE" not in Settings().eventsourcing_env()


def test_an_unknown_log_level_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown log level 'loud'"):
        Settings(log_level="loud")


def test_clusterlabel_prefixed_environment_variables_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERLABEL_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("CLUSTERLABEL_TEMPORAL_ADDRESS", "temporal.example:7233")
    monkeypatch.setenv("CLUSTERLABEL_HTTP_PORT", "9001")
    monkeypatch.setenv("CLUSTERLABEL_LOG_LEVEL", "debug")
    monkeypatch.setenv("DATA_DIR", "/not/this/one")  # unprefixed names belong to someone else

    settings = Settings()

    assert settings.data_dir == tmp_path / "from-env"
    assert settings.temporal_address == "temporal.example:7233"
    assert settings.http_port == 9001
    assert settings.log_level == "DEBUG"


def test_an_empty_database_url_variable_means_the_sqlite_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERLABEL_DATABASE_URL", "")

    assert Settings().store() == "sqlite"


def test_the_settings_repr_hides_the_admin_token_and_the_database_password() -> None:
    settings = Settings(admin_token="tok-123", database_url="postgresql://u:pw-456@h/d")

    assert "tok-123" not in repr(settings)
    assert "pw-456" not in repr(settings)


@pytest.mark.parametrize("value", ["600", "PT10M"])
def test_the_reconciliation_interval_reads_as_seconds_or_iso_8601_from_the_environment(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTERLABEL_RECONCILE_EVERY", value)

    assert Settings().reconcile_every == timedelta(minutes=10)


def test_a_reconciliation_more_often_than_every_ten_seconds_is_refused() -> None:
    with pytest.raises(ValidationError, match="reconcile_every"):
        Settings(reconcile_every=timedelta(seconds=2))


def test_an_empty_metrics_token_leaves_metrics_open_rather_than_opening_them_to_an_empty_bearer() -> None:
    assert Settings(metrics_token="").metrics_token is None
    assert Settings(metrics_token="  ").metrics_token is None
    assert Settings(metrics_token="scraper-secret").metrics_token == "scraper-secret"
