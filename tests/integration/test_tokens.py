"""Bearer tokens kept beside the event store: a SQLite file, or a table every API process shares.

Two stores opened on the same settings stand for two API processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from uuid import uuid4

import pytest

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.tokens import (
    EXPERT,
    SECRETARIAT,
    TOKENS_FILE,
    TOKENS_TABLE,
    Holder,
    TokenStore,
    open_token_store,
    token_hash,
)
from tests.stores import POSTGRES, postgres_schema, race, schema_url

CONFIGURED = "configured-secretariat-token-0123456789"
OpenStore = Callable[..., TokenStore]


class TokenStoreContract:
    """What both backends must do; subclasses provide `settings` and read back what they keep."""

    def kept_rows(self, settings: Settings) -> list[str]:
        """Every row the store keeps, as text."""
        raise NotImplementedError

    @pytest.fixture
    def open_store(self, settings: Settings) -> Iterator[OpenStore]:
        opened: list[TokenStore] = []

        def one_process(admin_token: str | None = None) -> TokenStore:
            opened.append(open_token_store(settings.model_copy(update={"admin_token": admin_token})))
            return opened[-1]

        yield one_process
        for store in opened:
            store.close()

    # ---- experts ------------------------------------------------------------------------

    def test_an_expert_token_names_its_expert_and_an_unknown_token_nobody(self, open_store: OpenStore) -> None:
        store, expert_id = open_store(), uuid4()
        token = store.issue_expert_token(expert_id)
        assert store.holder(token) == Holder(EXPERT, expert_id)
        assert store.holder("not-a-token") is None

    def test_a_new_expert_token_replaces_the_earlier_one(self, open_store: OpenStore) -> None:
        store, expert_id, other_id = open_store(), uuid4(), uuid4()
        earlier = store.issue_expert_token(expert_id)
        other = store.issue_expert_token(other_id)
        later = store.issue_expert_token(expert_id)
        assert store.holder(earlier) is None
        assert store.holder(later) == Holder(EXPERT, expert_id)
        assert store.holder(other) == Holder(EXPERT, other_id)

    def test_retiring_an_experts_token_ends_it_and_no_other(self, open_store: OpenStore) -> None:
        store, expert_id, other_id = open_store(), uuid4(), uuid4()
        retired, kept = store.issue_expert_token(expert_id), store.issue_expert_token(other_id)
        assert store.retire_expert_token(expert_id) is True
        assert store.holder(retired) is None and store.holder(kept) == Holder(EXPERT, other_id)
        assert store.retire_expert_token(expert_id) is False  # nothing left to retire

    # ---- the secretariat ----------------------------------------------------------------

    def test_the_admin_token_is_generated_at_the_first_start_only(self, open_store: OpenStore) -> None:
        token = open_store().ensure_admin_token()
        assert token is not None
        restarted = open_store()
        assert restarted.ensure_admin_token() is None
        assert restarted.holder(token) == SECRETARIAT

    def test_a_rotated_admin_token_replaces_the_earlier_one(self, open_store: OpenStore) -> None:
        store = open_store()
        earlier = store.ensure_admin_token()
        assert earlier is not None
        later = store.rotate_admin_token()
        assert store.holder(earlier) is None
        assert store.holder(later) == SECRETARIAT

    def test_a_configured_admin_token_wins_and_is_never_stored(self, settings: Settings, open_store: OpenStore) -> None:
        stored = open_store().rotate_admin_token()
        configured = open_store(CONFIGURED)
        assert configured.ensure_admin_token() is None
        assert configured.holder(CONFIGURED) == SECRETARIAT
        assert configured.holder(stored) is None
        assert not any(token_hash(CONFIGURED) in row for row in self.kept_rows(settings))

    def test_only_hashes_are_kept(self, settings: Settings, open_store: OpenStore) -> None:
        store = open_store()
        tokens = [store.rotate_admin_token(), store.issue_expert_token(uuid4())]
        kept = "\n".join(self.kept_rows(settings))
        for token in tokens:
            assert token not in kept
            assert token_hash(token) in kept

    # ---- several processes --------------------------------------------------------------

    def test_a_token_issued_by_one_process_is_known_to_another(self, open_store: OpenStore) -> None:
        issuing, checking, expert_id = open_store(), open_store(), uuid4()
        admin = issuing.rotate_admin_token()
        expert = issuing.issue_expert_token(expert_id)
        assert checking.holder(admin) == SECRETARIAT
        assert checking.holder(expert) == Holder(EXPERT, expert_id)
        replaced = checking.issue_expert_token(expert_id)
        assert issuing.holder(expert) is None
        assert issuing.holder(replaced) == Holder(EXPERT, expert_id)

    def test_racing_expert_tokens_from_two_processes_leave_one_valid_token_per_expert(
        self, settings: Settings, open_store: OpenStore
    ) -> None:
        stores, experts = (open_store(), open_store()), [uuid4() for _ in range(3)]
        calls = [(stores[attempt % 2], expert_id) for attempt in range(8) for expert_id in experts]
        issued = race([partial(store.issue_expert_token, expert_id) for store, expert_id in calls])

        for expert_id in experts:
            valid = {
                token
                for (_, issued_for), token in zip(calls, issued, strict=False)
                if issued_for == expert_id and stores[0].holder(token)
            }
            assert len(valid) == 1, expert_id
            assert all(store.holder(token) == Holder(EXPERT, expert_id) for store in stores for token in valid)
        assert len(self.kept_rows(settings)) == len(experts)

    def test_racing_admin_rotations_from_two_processes_leave_one_admin_token(
        self, settings: Settings, open_store: OpenStore
    ) -> None:
        stores = (open_store(), open_store())
        rotated = race([store.rotate_admin_token for store in stores * 4])
        assert sum(stores[1].holder(token) == SECRETARIAT for token in rotated) == 1
        assert len(self.kept_rows(settings)) == 1

    def test_of_processes_starting_together_only_one_announces_an_admin_token(self, open_store: OpenStore) -> None:
        stores = [open_store() for _ in range(4)]
        announced = [token for token in race([store.ensure_admin_token for store in stores]) if token is not None]
        assert len(announced) == 1
        assert all(store.holder(announced[0]) == SECRETARIAT for store in stores)


# ---- SQLite ------------------------------------------------------------------------------------


class TestTokensInTheSQLiteFile(TokenStoreContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path / "data", database_url=None)

    def kept_rows(self, settings: Settings) -> list[str]:
        import sqlite3

        with sqlite3.connect(settings.data_dir / TOKENS_FILE) as db:
            return [repr(row) for row in db.execute("SELECT * FROM tokens")]

    def test_the_file_holds_no_token_even_before_a_checkpoint(self, settings: Settings, open_store: OpenStore) -> None:
        token = open_store().rotate_admin_token()
        for path in settings.data_dir.glob(f"{TOKENS_FILE}*"):  # the WAL too
            assert token not in path.read_bytes().decode("latin-1")


# ---- PostgreSQL --------------------------------------------------------------------------------


@pytest.mark.postgres
class TestTokensInThePostgreSQLTable(TokenStoreContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Iterator[Settings]:
        for env in postgres_schema():
            yield Settings(data_dir=tmp_path / "data", database_url=schema_url(env))

    def kept_rows(self, settings: Settings) -> list[str]:
        import psycopg

        schema = settings.eventsourcing_env()["POSTGRES_SCHEMA"]
        with psycopg.connect(**POSTGRES, autocommit=True) as db:
            return [row[0] for row in db.execute(f'SELECT t::text FROM "{schema}".{TOKENS_TABLE} t')]

    def test_the_tokens_live_in_the_event_store_schema_and_not_in_the_data_directory(
        self, settings: Settings, open_store: OpenStore
    ) -> None:
        store = open_store()
        store.rotate_admin_token()
        assert settings.eventsourcing_env()["POSTGRES_SCHEMA"] in store.location
        assert len(self.kept_rows(settings)) == 1
        assert not (settings.data_dir / TOKENS_FILE).exists()
