"""The pages' credentials beside the event store, on SQLite and PostgreSQL alike (one class, subclassed per
store): password hashes and the lockout, sessions and their expiries, one-time links, second factors.
The clock is moved by hand: the rules are about minutes and hours."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import password_links, passwords, sessions, side_tables
from clusterlabel.interfaces.web.credentials import Credentials, open_credentials
from clusterlabel.interfaces.web.second_factors import STEP_SECONDS, code_at, matching_step
from clusterlabel.interfaces.web.side_tables import open_side_table
from tests.stores import postgres_schema, schema_url

PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


class CredentialsContract:
    @pytest.fixture
    def settings(self) -> Settings:
        raise NotImplementedError

    @pytest.fixture
    def clock(self, monkeypatch: pytest.MonkeyPatch) -> Clock:
        clock = Clock()
        monkeypatch.setattr(side_tables, "wall_clock", clock)
        return clock

    @pytest.fixture
    def credentials(self, settings: Settings, clock: Clock) -> Iterator[Credentials]:
        opened = open_credentials(settings)
        yield opened
        opened.close()

    def stored(self, settings: Settings, name: str, columns: str) -> list[tuple[Any, ...]]:
        """Every row of a credentials table, read as another process would."""
        table = open_side_table(settings, name, columns)
        try:
            return table.rows("SELECT * FROM {}", ())
        finally:
            table.close()

    # ---- passwords --------------------------------------------------------------------------------

    def test_a_password_is_kept_only_as_an_argon2id_hash(self, settings: Settings, credentials: Credentials) -> None:
        account_id = uuid4()
        credentials.passwords.set(account_id, PASSWORD)
        ((_, digest, *_),) = self.stored(settings, "passwords", passwords.COLUMNS)
        assert digest.startswith("$argon2id$") and PASSWORD not in digest
        assert credentials.passwords.check(account_id, PASSWORD)
        assert not credentials.passwords.check(account_id, PASSWORD.upper())

    def test_five_failures_in_a_row_lock_sign_in_for_fifteen_minutes(
        self, credentials: Credentials, clock: Clock
    ) -> None:
        account_id, store = uuid4(), credentials.passwords
        store.set(account_id, PASSWORD)
        for _ in range(4):
            assert not store.check(account_id, "a wrong password")
        assert store.check(account_id, PASSWORD)  # a success starts the count again
        for _ in range(5):
            assert not store.check(account_id, "a wrong password")
        assert store.locked(account_id) and not store.check(account_id, PASSWORD)
        clock.advance(passwords.LOCKOUT - timedelta(seconds=1))
        assert not store.check(account_id, PASSWORD)
        clock.advance(timedelta(seconds=1))
        assert store.check(account_id, PASSWORD)

    def test_an_unknown_account_or_one_without_a_password_costs_the_same_hash_check(
        self, credentials: Credentials, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        checked: list[str] = []
        real = passwords._verifies
        monkeypatch.setattr(passwords, "_verifies", lambda digest, word: checked.append(digest) or real(digest, word))
        known = uuid4()
        credentials.passwords.set(known, PASSWORD)
        for account_id in (None, uuid4(), known):
            assert not credentials.passwords.check(account_id, "a wrong password")
        assert len(checked) == 3 and all(digest.startswith("$argon2id$") for digest in checked)

    # ---- sessions -----------------------------------------------------------------------------------

    def test_only_a_hash_of_a_session_id_is_stored(self, settings: Settings, credentials: Credentials) -> None:
        session_id = credentials.sessions.start(sessions.MACHINE_ADMIN)
        rows = self.stored(settings, "sessions", sessions.COLUMNS)
        assert len(rows) == 1 and session_id not in str(rows)
        assert credentials.sessions.resolve(session_id) == sessions.Session(sessions.MACHINE_ADMIN, False)

    def test_a_session_in_use_lives_on_and_one_left_idle_for_thirty_minutes_ends(
        self, credentials: Credentials, clock: Clock
    ) -> None:
        store = credentials.sessions
        session_id = store.start(sessions.subject_of_account(uuid4()))
        for _ in range(3):
            clock.advance(sessions.IDLE_TIMEOUT - timedelta(minutes=2))
            assert store.resolve(session_id) is not None
        clock.advance(sessions.IDLE_TIMEOUT)
        assert store.resolve(session_id) is None
        assert store.resolve(session_id) is None  # gone for good, not only expired

    def test_a_session_ends_twelve_hours_after_it_began_however_busy(
        self, credentials: Credentials, clock: Clock
    ) -> None:
        store = credentials.sessions
        session_id = store.start(sessions.MACHINE_ADMIN)
        while clock.now < datetime(2031, 3, 1, 9, 0, tzinfo=UTC) + sessions.ABSOLUTE_LIFETIME - timedelta(minutes=10):
            assert store.resolve(session_id) is not None
            clock.advance(timedelta(minutes=10))
        clock.advance(timedelta(minutes=10))
        assert store.resolve(session_id) is None

    def test_ending_an_accounts_sessions_leaves_everyone_elses(self, credentials: Credentials) -> None:
        leaving, staying = uuid4(), uuid4()
        store = credentials.sessions
        ended = [store.start(sessions.subject_of_account(leaving)) for _ in range(2)]
        kept = store.start(sessions.subject_of_account(staying))
        assert store.end_account(leaving) == 2
        assert [store.resolve(session_id) for session_id in ended] == [None, None]
        resolved = store.resolve(kept)
        assert resolved is not None and resolved.account_id == staying

    # ---- one-time links ----------------------------------------------------------------------------

    def test_a_link_is_spent_once_and_stops_working_after_a_day(
        self, settings: Settings, credentials: Credentials, clock: Clock
    ) -> None:
        links, account_id = credentials.links, uuid4()
        url = password_links.issue_password_link(links, account_id, "https://labels.example.eu/")
        assert url.startswith("https://labels.example.eu/ui/password?link=")
        token = url.partition("link=")[2]
        assert token not in str(self.stored(settings, "password_links", password_links.COLUMNS))
        assert links.account_for(token) == account_id == links.use(token)
        assert links.use(token) is None and links.account_for(token) is None
        late = links.issue(account_id)
        clock.advance(password_links.LINK_LIFETIME)
        assert links.account_for(late) is None and links.use(late) is None

    # ---- second factors ----------------------------------------------------------------------------

    def test_a_second_factor_is_confirmed_by_a_code_and_each_code_is_good_once(self, credentials: Credentials) -> None:
        factors, account_id = credentials.second_factors, uuid4()
        secret = factors.pending_secret(account_id)
        assert factors.pending_secret(account_id) == secret and not factors.enrolled(account_id)
        step = matching_step(secret, code_at(secret, _step()))
        assert step is not None
        assert not factors.verify(account_id, code_at(secret, step))  # not enrolled yet: enrolling comes first
        assert factors.verify(account_id, code_at(secret, step), enrolling=True) and factors.enrolled(account_id)
        assert not factors.verify(account_id, code_at(secret, step))
        assert factors.verify(account_id, code_at(secret, step + 1))
        with pytest.raises(ValueError, match="already"):
            factors.pending_secret(account_id)


def _step() -> int:
    return int(time.time() // STEP_SECONDS)


class TestCredentialsInSQLiteFiles(CredentialsContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path / "data", database_url=None)


@pytest.mark.postgres
class TestCredentialsInPostgreSQLTables(CredentialsContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Iterator[Settings]:
        for env in postgres_schema():
            yield Settings(data_dir=tmp_path / "data", database_url=schema_url(env))
