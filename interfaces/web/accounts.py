"""Accounts: opening one per person, their roles, deactivation and erasure, the caller's own account,
and the personal API tokens of each.

An account's facts (roles, links, deactivation) are events; its person's name and e-mail address go
beside the log (interfaces/web/people.py) and its tokens' hashes likewise (interfaces/web/account_tokens.py).
Each change goes through AccountBook (account_book.py), as the command line's do.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.account import Account, Role
from clusterlabel.domain.base import NotFound, StepNotAllowed, derived_id
from clusterlabel.domain.command_base import AccountCommand, Envelope
from clusterlabel.domain.record_commands import OpenAccount, RevokeRole
from clusterlabel.interfaces.logs import get_logger
from clusterlabel.interfaces.web.account_schemas import (
    AccountCreated,
    AccountIn,
    AccountOut,
    ContactIn,
    DeactivationIn,
    LanguageIn,
    PersonIn,
    RoleIn,
    TokenCreated,
    TokenIn,
)
from clusterlabel.interfaces.web.account_tokens import TokenInfo
from clusterlabel.interfaces.web.auth import Admin, Bearer, Caller, Officer, Principal, read_as_caller
from clusterlabel.interfaces.web.common import ERRORS, Key, creation_key, history_events
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.people import ENGLISH, EmailTaken
from clusterlabel.interfaces.web.releases import release_from_open_cases
from clusterlabel.interfaces.web.schemas import History, HistoryEvent
from clusterlabel.interfaces.web.services import Services, Svc
from clusterlabel.interfaces.web.side_tables import wall_clock

log = get_logger(__name__)
router = APIRouter(tags=["accounts"], responses=ERRORS)
MACHINE_ADMIN_NAME = "machine administrator"


# ---- opening accounts -------------------------------------------------------------------------


@router.post("/accounts", status_code=201, summary="Open an account for a person")
async def open_account(body: AccountIn, svc: Svc, who: Admin, key: Key = None) -> AccountCreated:
    command, account_key = body.command(), creation_key("account", key)
    try:
        created = await run_in_threadpool(opened, svc, who, body, command, account_key)
    except StepNotAllowed:
        # A retry of an opening whose answer was lost (its token issued): the account and its affiliation are
        # recorded, but the first attempt may have stopped before the release. Released once, whichever does it.
        await _release_if_affiliated(svc, who, account_key)
        raise
    try:
        await _release_if_affiliated(svc, who, account_key)
    except Exception:  # the answer carries the account's only token: no failure here may lose it
        log.exception(
            "expert not released from the cluster's cases; send the request again with its Idempotency-Key, "
            "or record the affiliation again, to release them",
            account_id=str(created.account_id),
            expert_id=str(command.expert_id),
            cluster_id=str(command.cluster_id),
        )
    return created


async def _release_if_affiliated(svc: Services, who: Principal, account_key: str) -> None:
    """An expert who speaks for the cluster is affiliated with it (recorded in the account's save): they leave
    its open cases, as on any affiliation that excludes them. As the account was recorded under the key, not
    as a retry's body says (a form sent again after a change keeps its key)."""
    try:
        account = await run_in_threadpool(svc.app.load, Account.create_id(account_key), Account)
    except NotFound:  # the opening recorded nothing
        return
    if account.expert_id is None or account.cluster_id is None:
        return
    reason = "a conflict of interest: the expert speaks for the cluster as its contact"
    await release_from_open_cases(svc, who, account.expert_id, reason, account_key, account.cluster_id)


@router.post(
    "/clusters/{cluster_id}/contacts", status_code=201, summary="Open an account for a contact person of the cluster"
)
def add_contact(cluster_id: UUID, body: ContactIn, svc: Svc, who: Officer, key: Key = None) -> AccountCreated:
    svc.app.get_cluster(cluster_id)
    command = OpenAccount(roles=[Role.CLUSTER], cluster_id=cluster_id)
    return opened(svc, who, body, command, creation_key(f"contact:{cluster_id}", key))


def opened(svc: Services, who: Principal, person: PersonIn, command: OpenAccount, key: str) -> AccountCreated:
    """Open the account with its person and first token (AccountBook.open); a taken address is 409."""
    envelope = Envelope(actor=who.actor, key=key, at=svc.now())
    try:
        created = svc.accounts.open(person.name, person.email, command, envelope)
    except EmailTaken as taken:
        raise ApiError(409, str(taken)) from None
    svc.wrote()
    return AccountCreated(account_id=created.account_id, token=created.token)


def check_email_free(svc: Services, email: str, account_id: UUID) -> None:
    """409 when another account signs in with this address; naming the expert it speaks for, if any,
    since a registration repeated without its key is the usual cause (only staff open accounts)."""
    try:
        svc.people.check_email_free(email, account_id)
    except EmailTaken as taken:
        holder = svc.people.account_with_email(email)
        expert_id = None if holder is None else _expert_of(svc, holder)
        whose = f": the account of expert {expert_id}" if expert_id else ""
        raise ApiError(409, f"{taken}{whose}") from None


def _expert_of(svc: Services, account_id: UUID) -> UUID | None:
    try:
        return svc.app.load(account_id, Account).expert_id
    except NotFound:
        return None


# ---- reading and changing accounts --------------------------------------------------------------


# Without the ids a caller does not have (the machine token has no account, staff no expert or
# cluster), rather than nulls a client could mistake for ids.
@router.get("/me", response_model_exclude_none=True, summary="The caller's own account")
def me(svc: Svc, who: Caller) -> AccountOut:
    if who.account_id is None:
        name = MACHINE_ADMIN_NAME if who.sees_everything else f"expert {who.expert_id}"
        return AccountOut(account_id=None, name=name, email=None, roles=sorted(who.roles), expert_id=who.expert_id)
    return account_out(svc, load_account(svc, who.account_id))


@router.get("/accounts", summary="Every account, by name")
def list_accounts(
    svc: Svc,
    who: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AccountOut]:
    return [account_out(svc, load_account(svc, account_id)) for account_id in svc.people.account_ids(limit, offset)]


@router.get("/accounts/{account_id}", summary="One account")
def get_account(account_id: UUID, svc: Svc, who: Caller) -> AccountOut:
    return account_out(svc, load_account(svc, _own_or_admin(who, account_id)))


@router.get(
    "/accounts/{account_id}/history",
    summary="Every event of the account: opened, each role granted or revoked and by whom, deactivated",
)
async def account_history(account_id: UUID, svc: Svc, token: Bearer) -> History:
    """Answers "who could decide on this date": each grant and revocation names its administrator and instant."""
    return History(events=await read_as_caller(svc, token, partial(_account_history_shown, svc, account_id)))


def _account_history_shown(svc: Services, account_id: UUID, who: Principal) -> list[HistoryEvent]:
    load_account(svc, _own_or_admin(who, account_id))
    svc.fresh()
    return history_events(svc.models.history(account_id), who)


@router.post("/accounts/{account_id}/roles", summary="Grant a role")
def grant_role(account_id: UUID, body: RoleIn, svc: Svc, who: Admin, key: Key = None) -> AccountOut:
    if who.account_id == account_id:  # four eyes on roles too: an administrator cannot make themselves a decider
        raise ApiError(403, "an administrator may not grant a role to their own account; another administrator may")
    return _changed(svc, who, account_id, body, "grant", key)


@router.delete("/accounts/{account_id}/roles/{role}", summary="Revoke a role")
def revoke_role(account_id: UUID, role: Role, svc: Svc, who: Admin, key: Key = None) -> AccountOut:
    return _changed(svc, who, account_id, RevokeRole(role=role), f"revoke:{role.value}", key)


@router.post(
    "/accounts/{account_id}/deactivation", summary="Deactivate an account: its tokens and sessions stop working at once"
)
def deactivate(
    account_id: UUID, svc: Svc, who: Admin, key: Key = None, body: DeactivationIn | None = None
) -> AccountOut:
    out = _changed(svc, who, account_id, body or DeactivationIn(), "deactivate", key)
    _end_sessions(svc, account_id)
    return out


@router.post(
    "/accounts/{account_id}/erasure",
    summary="Erase the person's name and e-mail address; the account is deactivated, its acts stay in the log",
)
def erase(account_id: UUID, svc: Svc, who: Admin, key: Key = None) -> AccountOut:
    """An expert's account is erased once their certification is revoked (409 before: an expert still
    certified would go on being proposed to cases); their name, sealed in the log, is shredded."""
    load_account(svc, account_id)
    envelope = Envelope(actor=who.actor, key=creation_key(f"account:{account_id}:erase", key), at=svc.now())
    account = svc.accounts.erase(account_id, envelope)
    svc.wrote()
    return account_out(svc, account)


def _end_sessions(svc: Services, account_id: UUID) -> None:
    """End every session of the pages the account has. At its deactivation they already resolve to no one
    (principal_of_account) and only their rows go; when one of its tokens is revoked or rotated, a session
    that token started must end, and a session does not remember which credential started it, so all do
    (the owner signs in again). A process serving no pages has no sessions to end."""
    if svc.credentials is not None:
        svc.credentials.sessions.end_account(account_id)


def _changed(
    svc: Services, who: Principal, account_id: UUID, command: AccountCommand, step: str, key: str | None
) -> AccountOut:
    load_account(svc, account_id)
    envelope = Envelope(actor=who.actor, key=creation_key(f"account:{account_id}:{step}", key), at=svc.now())
    account = svc.accounts.change(account_id, command, envelope)
    svc.wrote()
    return account_out(svc, account)


def load_account(svc: Services, account_id: UUID) -> Account:
    try:
        return svc.app.load(account_id, Account)
    except NotFound:
        raise ApiError(404, f"no account with id {account_id}") from None


def account_out(svc: Services, account: Account) -> AccountOut:
    name, email = svc.accounts.shown_as(account.id)
    person = svc.people.get(account.id)
    return AccountOut(
        account_id=account.id,
        name=name,
        email=email,
        roles=sorted(account.roles),
        expert_id=account.expert_id,
        cluster_id=account.cluster_id,
        active=account.active,
        erased=account.erased,
        language=person.language if person else ENGLISH,
    )


@router.post("/accounts/{account_id}/language", summary="Choose the messages' language")
def choose_language(account_id: UUID, body: LanguageIn, svc: Svc, who: Caller, key: Key = None) -> AccountOut:
    """The person's messages are worded in this language from the next one sent (the owner of the
    account or an administrator chooses it)."""
    account = load_account(svc, _own_or_admin(who, account_id))
    if not svc.people.choose_language(account_id, body.language):
        raise ApiError(409, f"account {account_id} has no person to write to (erased, or never recorded)")
    return account_out(svc, account)


def _own_or_admin(who: Principal, account_id: UUID) -> UUID:
    """An account is read and its tokens listed and revoked by its owner or an administrator; to anyone else
    it answers as an unknown one does."""
    if who.account_id != account_id and not who.holds(Role.ADMIN):
        raise ApiError(404, f"no account with id {account_id}")
    return account_id


def _check_owner(who: Principal, account_id: UUID) -> None:
    """A new secret of an account (an issued or a rotated token) goes to its owner alone: an administrator
    holding one could act as that person, and the log would name them (the account's first token, shown
    once to whoever opens it, is handed over and then rotated by its owner)."""
    if who.account_id != account_id:
        raise ApiError(403, f"only the owner of account {account_id} issues or rotates its tokens; you may revoke them")


# ---- personal API tokens -------------------------------------------------------------------------


@router.get("/accounts/{account_id}/tokens", summary="The account's API tokens")
def list_tokens(account_id: UUID, svc: Svc, who: Caller) -> list[TokenInfo]:
    load_account(svc, _own_or_admin(who, account_id))
    return svc.account_tokens.tokens_of(account_id)


@router.post("/accounts/{account_id}/tokens", status_code=201, summary="Issue a personal API token")
def issue_token(account_id: UUID, body: TokenIn, svc: Svc, who: Caller, key: Key = None) -> TokenCreated:
    account = load_account(svc, _own_or_admin(who, account_id))
    _check_owner(who, account_id)
    if not account.active:
        raise ApiError(409, f"account {account_id} is deactivated; it gets no new tokens")
    keyed, _ = _keyed_token(svc, account_id, "issue", key)
    token_id, token = svc.account_tokens.issue(account_id, body.name, timedelta(days=body.valid_days), keyed)
    info = svc.account_tokens.get(account_id, token_id)
    assert info is not None
    return TokenCreated(token_id=token_id, token=token, expires_at=info.expires_at)


def _keyed_token(svc: Services, account_id: UUID, step: str, key: str | None) -> tuple[UUID | None, bool]:
    """The id of the token a request under an Idempotency-Key issues, the same for its retries (which
    replace the secret its first answer carried, unseen), and whether an earlier try issued it already;
    no id without a key: every request a new token. A retry after that token was revoked or expired is
    refused (409): it stays ended."""
    if not key:
        return None, False
    token_id = derived_id("account-token", account_id, step, key)
    issued = svc.account_tokens.get(account_id, token_id)
    if issued is not None and (issued.revoked_at is not None or issued.expires_at <= wall_clock()):
        raise ApiError(409, f"token {token_id}, which this request issued, has ended since (revoked or expired)")
    return token_id, issued is not None


@router.delete("/accounts/{account_id}/tokens/{token_id}", status_code=204, summary="Revoke a personal API token")
def revoke_token(account_id: UUID, token_id: UUID, svc: Svc, who: Caller, key: Key = None) -> None:
    _own_or_admin(who, account_id)
    # Revoking is idempotent: a token already revoked (or replaced by its rotation) answers 204 again.
    if svc.account_tokens.revoke(account_id, token_id):
        _end_sessions(svc, account_id)
    elif svc.account_tokens.get(account_id, token_id) is None:
        raise ApiError(404, f"no token with id {token_id} on account {account_id}")


@router.post(
    "/accounts/{account_id}/tokens/{token_id}/rotation",
    status_code=201,
    summary="Replace a token by a new one of the same name and lifetime",
)
def rotate_token(account_id: UUID, token_id: UUID, svc: Svc, who: Caller, key: Key = None) -> TokenCreated:
    load_account(svc, _own_or_admin(who, account_id))
    _check_owner(who, account_id)
    old = svc.account_tokens.get(account_id, token_id)
    keyed, retried = _keyed_token(svc, account_id, f"rotate:{token_id}", key)
    if old is None or (old.revoked_at is not None and not retried):
        raise ApiError(404, f"no live token with id {token_id} on account {account_id}")
    new_id_, token = svc.account_tokens.issue(account_id, old.name, old.expires_at - old.created_at, keyed)
    if svc.account_tokens.revoke(account_id, token_id):
        _end_sessions(svc, account_id)
    info = svc.account_tokens.get(account_id, new_id_)
    assert info is not None
    return TokenCreated(token_id=new_id_, token=token, expires_at=info.expires_at)
