"""An expert's token issued before accounts existed (no name, expiry or owner to revoke it) stands for its
expert only until the expert has an account: opening one retires it, and an account opened earlier retires
it the first time the token is shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.account import Role
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.record_commands import OpenAccount
from clusterlabel.interfaces.web.auth import principal_for
from clusterlabel.interfaces.web.services import Services
from clusterlabel.projections.factory import open_read_models
from tests.lifecycle import Clock, Lifecycle
from tests.stores import sqlite_env, sqlite_services


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    app = CertificationApp(env=sqlite_env(tmp_path), clock=Clock())
    models = open_read_models(sqlite_env(tmp_path), app)
    services = sqlite_services(tmp_path, app, models, "legacy-tokens")
    yield services
    services.close_stores()
    models.close()
    app.close()


def open_account_for(svc: Services, expert_id: UUID, key: str) -> str:
    """What POST /accounts does for an expert: their account and its first token."""
    command = OpenAccount(roles=[Role.EXPERT], expert_id=expert_id)
    envelope = Envelope(actor="machine-admin", key=key, at=svc.now())
    return svc.accounts.open("Erna Expert", f"{key}@example.org", command, envelope).token


def test_an_expert_token_from_before_accounts_ends_when_the_expert_is_given_an_account(svc: Services) -> None:
    expert_id = Lifecycle(svc.app).expert()  # registered as before accounts: no account speaks for them
    old_token = svc.tokens.issue_expert_token(expert_id)
    before = principal_for(svc, old_token)
    assert before is not None and before.expert_id == expert_id and before.account_id is None

    new_token = open_account_for(svc, expert_id, "erna")
    assert svc.tokens.holder(old_token) is None  # retired as the account opened, before any view knows of it
    svc.models.catch_up()

    assert principal_for(svc, old_token) is None
    after = principal_for(svc, new_token)
    assert after is not None and after.expert_id == expert_id and after.account_id is not None


def test_an_expert_token_whose_expert_already_has_an_account_is_retired_when_shown(svc: Services) -> None:
    expert_id = Lifecycle(svc.app).expert()
    open_account_for(svc, expert_id, "ernst")
    svc.models.catch_up()
    old_token = svc.tokens.issue_expert_token(expert_id)  # as if left over from before the account

    assert principal_for(svc, old_token) is None
    assert svc.tokens.holder(old_token) is None  # retired for good, whatever happens to the account later
