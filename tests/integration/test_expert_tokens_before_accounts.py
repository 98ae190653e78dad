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
from clusterlabel.domain.base import StepNotAllowed
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.record_commands import DeactivateAccount, OpenAccount, RevokeRole
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


def envelope(svc: Services, key: str) -> Envelope:
    return Envelope(actor="machine-admin", key=key, at=svc.now())


def open_account_for(svc: Services, expert_id: UUID, key: str) -> str:
    """What POST /accounts does for an expert: their account and its first token."""
    command = OpenAccount(roles=[Role.EXPERT], expert_id=expert_id)
    return svc.accounts.open("Erna Expert", f"{key}@example.org", command, envelope(svc, key)).token


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


@pytest.mark.parametrize("step", [DeactivateAccount(reason="left the pool"), RevokeRole(role=Role.EXPERT)])
def test_a_left_over_token_stays_dead_once_the_experts_account_is_deactivated_or_no_longer_an_experts(
    svc: Services, step: DeactivateAccount | RevokeRole
) -> None:
    life = Lifecycle(svc.app)
    expert_id = life.expert()
    # An expert who also speaks for a cluster: an account keeps a role once its expert role is revoked.
    command = OpenAccount(roles=[Role.EXPERT, Role.CLUSTER], expert_id=expert_id, cluster_id=life.cluster_id)
    account_id = svc.accounts.open("Elke Expert", "elke@example.org", command, envelope(svc, "elke")).account_id
    old_token = svc.tokens.issue_expert_token(expert_id)  # left over from before the account, never shown since
    svc.accounts.change(account_id, step, envelope(svc, "elke-step"))
    svc.models.catch_up()

    assert principal_for(svc, old_token) is None
    assert svc.tokens.holder(old_token) is None


def test_an_opening_sent_again_under_its_key_naming_another_expert_retires_only_the_recorded_experts_token(
    svc: Services,
) -> None:
    """A form sent again after a change keeps its key: the account is the one first recorded, and only its
    expert's old token ends."""
    life = Lifecycle(svc.app)
    recorded, named_later = life.expert(), life.expert("AT")
    tokens = {expert_id: svc.tokens.issue_expert_token(expert_id) for expert_id in (recorded, named_later)}
    open_account_for(svc, recorded, "opening")

    with pytest.raises(StepNotAllowed, match="owner's alone"):
        open_account_for(svc, named_later, "opening")

    assert svc.tokens.holder(tokens[recorded]) is None
    assert svc.tokens.holder(tokens[named_later]) is not None
