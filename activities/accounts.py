"""The accounts' handlers, and who an actor is when a rule compares people.

No workflow orchestrates an account: the HTTP routes and the CLI call `handle` (activities/handlers.py).
Like every handler each is idempotent by its envelope's key; opening an account addresses the id its
key derives (Account.create_id), so a retry finds the account the first attempt opened.
"""

from __future__ import annotations

from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain import record_commands
from clusterlabel.domain.account import Account, Role, account_id_of
from clusterlabel.domain.base import RecordedAggregate
from clusterlabel.domain.command_base import Envelope


def open_account(
    app: CertificationApp, account_id: UUID, command: record_commands.OpenAccount, env: Envelope
) -> Account:
    def build() -> list[RecordedAggregate]:
        _check_linked_records_exist(app, command)
        account = Account.open(command.roles, command.expert_id, command.cluster_id, env.actor, env.key)
        return [account, *_contact_as_affiliation(app, command, env)]

    opened = app.created(account_id, build)
    assert isinstance(opened, Account)
    return opened


def _check_linked_records_exist(app: CertificationApp, command: record_commands.OpenAccount) -> None:
    """NotFound for an expert or a cluster that was never registered."""
    if command.expert_id is not None:
        app.get_expert(command.expert_id)
    if command.cluster_id is not None:
        app.get_cluster(command.cluster_id)


def _contact_as_affiliation(
    app: CertificationApp, command: record_commands.OpenAccount, env: Envelope
) -> list[RecordedAggregate]:
    """An expert who speaks for a cluster as its contact is affiliated with it, and so never proposed for its
    audits: declared on the expert's record in the same save (ongoing: revoking the contact's role later
    does not say when the tie ended), unless an ongoing one is on record already (one that ends, however
    late, would let them back while they still speak for the cluster)."""
    if command.expert_id is None or command.cluster_id is None:
        return []
    expert = app.get_expert(command.expert_id)
    if any(held.until is None for held in expert.affiliation_periods.get(command.cluster_id, [])):
        return []
    expert.declare_affiliation(command.cluster_id, env.actor, env.key, since=env.instant())
    return [expert]


def grant_role(app: CertificationApp, account_id: UUID, command: record_commands.GrantRole, env: Envelope) -> Account:
    return app.change(account_id, Account, env, lambda account: account.grant(command.role, env.actor, env.key))


def revoke_role(app: CertificationApp, account_id: UUID, command: record_commands.RevokeRole, env: Envelope) -> Account:
    return app.change(account_id, Account, env, lambda account: account.revoke(command.role, env.actor, env.key))


def deactivate_account(
    app: CertificationApp, account_id: UUID, command: record_commands.DeactivateAccount, env: Envelope
) -> Account:
    return app.change(account_id, Account, env, lambda account: account.deactivate(command.reason, env.actor, env.key))


def erase_account(
    app: CertificationApp, account_id: UUID, command: record_commands.EraseAccount, env: Envelope
) -> Account:
    def act(account: Account) -> None:
        at = env.instant()
        certified = [e for e in account.spoke_for if app.get_expert(e).is_certified_at(at)]
        account.erase(env.actor, env.key, still_certified=certified)

    return app.change(account_id, Account, env, act)


def decider(app: CertificationApp, actor: str, role: Role, step: str) -> frozenset[UUID]:
    """The expert records a deciding actor speaks or ever spoke for (the impartiality rules compare them
    with the audit team), after checking that an account acting holds `role` now. Actors that are not
    accounts (an automatic step, histories from before accounts) speak for none but the one they name."""
    account_id = account_id_of(actor)
    if account_id is None:
        return frozenset()
    account = app.load(account_id, Account)
    account.check_may(role, step)
    return account.spoke_for
