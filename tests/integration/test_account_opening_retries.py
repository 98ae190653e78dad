"""An opening retried under its key (AccountBook.open): the first token is issued once, to the attempt
that gets to issue it; a retry after that issues none and revokes none, since the tokens are the owner's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.registrations import new_id
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import StepNotAllowed
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.record_commands import OpenAccount
from clusterlabel.interfaces.web.services import Services
from clusterlabel.projections.factory import open_read_models
from tests.lifecycle import Clock
from tests.stores import sqlite_env, sqlite_services

OFFICER = OpenAccount(roles=[Role.OFFICER])


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    app = CertificationApp(env=sqlite_env(tmp_path), clock=Clock())
    models = open_read_models(sqlite_env(tmp_path), app)
    services = sqlite_services(tmp_path, app, models, "opening-retries")
    yield services
    services.close_stores()
    models.close()
    app.close()


def envelope(svc: Services, key: str) -> Envelope:
    return Envelope(actor="machine-admin", key=key, at=svc.now())


def crashed_before_its_token(svc: Services, key: str) -> UUID:
    """An opening whose first attempt recorded the account and its person, then stopped."""
    account_id = new_id(OFFICER, envelope(svc, key))
    handle(svc.app, account_id, OFFICER, envelope(svc, key))
    svc.people.add(account_id, "Rita Retry", f"{key}@example.org")
    return account_id


def test_a_retry_of_an_opening_that_stopped_before_its_token_issues_it_and_the_next_retry_none(
    svc: Services,
) -> None:
    account_id = crashed_before_its_token(svc, "rita")

    opened = svc.accounts.open("Rita Retry", "rita@example.org", OFFICER, envelope(svc, "rita"))

    assert opened.account_id == account_id
    assert svc.account_tokens.account_for(opened.token) == account_id
    with pytest.raises(StepNotAllowed, match="owner's alone"):
        svc.accounts.open("Rita Retry", "rita@example.org", OFFICER, envelope(svc, "rita"))
    (token,) = svc.account_tokens.tokens_of(account_id)
    assert token.revoked_at is None and svc.account_tokens.account_for(opened.token) == account_id


def test_of_two_retries_racing_for_the_first_token_one_gets_a_secret(svc: Services) -> None:
    account_id = crashed_before_its_token(svc, "race")
    token_id = UUID(int=1)

    secrets = [svc.account_tokens.issue_once(account_id, "issued with the account", token_id) for _ in range(2)]

    assert secrets[0] is not None and secrets[1] is None
    assert [info.token_id for info in svc.account_tokens.tokens_of(account_id)] == [token_id]


def test_a_retry_of_an_erased_accounts_opening_gets_no_token(svc: Services) -> None:
    opened = svc.accounts.open("Erik Erased", "erik@example.org", OFFICER, envelope(svc, "erik"))
    svc.accounts.erase(opened.account_id, envelope(svc, "erase-erik"))
    assert svc.account_tokens.tokens_of(opened.account_id) == []  # deleted with the person

    with pytest.raises(StepNotAllowed, match="deactivated"):
        svc.accounts.open("Erik Erased", "erik@example.org", OFFICER, envelope(svc, "erik"))

    assert svc.account_tokens.tokens_of(opened.account_id) == []
