"""Who is calling, and which roles they act in.

API calls carry `Authorization: Bearer <token>`: a personal API token of an account, the machine
administrator's token (CLUSTERLABEL_ADMIN_TOKEN, or the one generated on first start), or an expert's
token issued before accounts existed, until that expert has an account. 401 means no valid token (or a deactivated account), 403 a
caller who may see the record but not take this step. The API never reads the pages' session cookie.

Pages are signed in by a server-side session (sessions.py), which names an account (resolved afresh on
every request, so deactivation ends it at once) or the machine administrator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.account import STAFF_ROLES, Account, Role, actor_of
from clusterlabel.domain.base import NotFound, StepNotAllowed
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.interfaces.web import sessions
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.services import Services, services
from clusterlabel.interfaces.web.tokens import ADMIN, EXPERT, Holder

# The machine administrator's acts: accounts and officer steps, never decisions.
MACHINE_ADMIN_ACTOR = "secretariat"
MACHINE_ADMIN_ROLES = frozenset({Role.ADMIN, Role.OFFICER})
R = TypeVar("R")
_bearer = HTTPBearer(auto_error=False, description="a personal API token, or the machine administrator's token")


@dataclass(frozen=True)
class Principal:
    roles: frozenset[Role]
    account_id: UUID | None = None  # None: the machine administrator, or an expert's token from before accounts
    expert_id: UUID | None = None  # the expert record an expert account speaks for
    cluster_id: UUID | None = None  # a cluster contact's own cluster

    @property
    def sees_everything(self) -> bool:
        """The secretariat (officers, deciders, the appeals panel, administrators) reads every record."""
        return bool(self.roles & STAFF_ROLES)

    @property
    def reads_the_outbox(self) -> bool:
        """Administrators and officers read the outbox (GET /notifications and its page): every message, to
        whom, and why one failed; of them only an officer sends a failed one again."""
        return self.holds(Role.ADMIN) or self.holds(Role.OFFICER)

    @property
    def is_expert(self) -> bool:
        return Role.EXPERT in self.roles and self.expert_id is not None

    def holds(self, role: Role) -> bool:
        return role in self.roles

    def speaks_for(self, cluster_id: UUID | None) -> bool:
        """A contact of this cluster (an account that is also an expert may read other clusters' records)."""
        return self.cluster_id is not None and self.cluster_id == cluster_id

    @property
    def actor(self) -> str:
        """How the event log names this caller."""
        if self.account_id is not None:
            return actor_of(self.account_id)
        return f"expert:{self.expert_id}" if self.is_expert else MACHINE_ADMIN_ACTOR

    def on_case(self, case: CertificationCase) -> bool:
        """An expert is on a case while proposed for it, on its team, or once on it (released, or objected to
        after joining: they read the history of the cases they were on, as its cluster reads it, and act on
        none); a cluster contact on their cluster's cases."""
        if self.sees_everything or self.speaks_for(case.cluster_id):
            return True
        if self.expert_id is None:
            return False
        return self.expert_id in case.evaluators or case.proposed_expert_id == self.expert_id


MACHINE_ADMIN = Principal(MACHINE_ADMIN_ROLES)


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, {"WWW-Authenticate": "Bearer"})


def principal_for(svc: Services, token: str | None) -> Principal | None:
    """The caller a token stands for; None for an unknown, revoked or expired token or a deactivated account."""
    if not token:
        return None
    holder = svc.tokens.holder(token)
    if holder is not None:
        return _machine_principal(svc, holder)
    account_id = svc.account_tokens.account_for(token)
    return None if account_id is None else principal_of_account(svc, account_id)


def _machine_principal(svc: Services, holder: Holder) -> Principal | None:
    if holder.role == ADMIN:
        return MACHINE_ADMIN
    if holder.role == EXPERT and holder.expert_id is not None:
        return _expert_before_accounts(svc, holder.expert_id)
    return None


def _expert_before_accounts(svc: Services, expert_id: UUID) -> Principal | None:
    """An expert's token from before accounts (no name, expiry or owner to revoke it) stands for its expert
    until the expert has an account: opening one retires it (AccountBook.open), and one opened before that
    rule retires it the first time it is shown here, even once that account is deactivated or no longer an
    expert's (else the old token would speak for them again)."""
    if svc.models.expert_had_an_account(expert_id):
        svc.tokens.retire_expert_token(expert_id)
        return None
    return Principal(frozenset({Role.EXPERT}), expert_id=expert_id)


def principal_of_account(svc: Services, account_id: UUID) -> Principal | None:
    """The account's roles as the log has them now; None once it is deactivated.

    Read from the log rather than the accounts view, which may lag: a deactivation or a revoked role
    holds from the very next request. An account has a handful of events, so this costs little."""
    try:
        account = svc.app.load(account_id, Account)
    except NotFound:
        return None
    if not account.active:
        return None
    return Principal(frozenset(account.roles), account.id, account.expert_id, account.cluster_id)


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> HTTPAuthorizationCredentials:
    """The request's bearer token, refused at once when there is none: a caller without one hears 401
    before the path and query are checked or the route runs. Whether it is valid is for `authenticated`."""
    if credentials is None:
        raise _unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    return credentials


def authenticated(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer_token)],
    svc: Annotated[Services, Depends(services)],
) -> Principal:
    principal = principal_for(svc, credentials.credentials)
    if principal is None:
        raise _unauthorized("the bearer token is not valid")
    return principal


Bearer = Annotated[HTTPAuthorizationCredentials, Depends(bearer_token)]


async def read_as_caller(svc: Services, credentials: HTTPAuthorizationCredentials, read: Callable[[Principal], R]) -> R:
    """Authenticate the caller and `read` for them, both on one worker thread.

    For the reads that must be quick (histories): a route taking `Caller` hops to a worker thread to
    authenticate and again to read, and each hop wakes a thread on the other core and then the event loop
    (on this project's 2-core VM, 0.2 ms a hop at the median and more in the tail). A caller without a
    token is refused before the route's input is read (`Bearer`); one with a token that is not valid is
    refused here, after FastAPI has checked the path (a malformed id answers 422 first, telling nothing of
    any record). It calls `authenticated` itself: an override of that dependency does not reach it."""
    return await run_in_threadpool(lambda: read(authenticated(credentials, svc)))


def on_the_loop(check: Callable[[Principal], Principal]) -> Callable[..., Awaitable[Principal]]:
    """A pure check of the authenticated caller, as a dependency run on the event loop: FastAPI runs a plain
    `def` dependency on a worker thread, a hop that costs more than the check (see read_as_caller)."""

    async def dependency(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        return check(principal)

    dependency.__name__ = dependency.__qualname__ = f"{check.__name__}_on_the_loop"
    return dependency


def requires(role: Role, refusal: str) -> Callable[[Principal], Principal]:
    """A check that lets through only a caller holding `role` (the pages' forms call it directly; routes
    take it through on_the_loop, as the aliases at the end of this module do)."""

    def check(principal: Principal) -> Principal:
        if not principal.holds(role):
            raise ApiError(403, refusal)
        return principal

    check.__name__ = check.__qualname__ = f"only_{role.value}"  # names the dependency in traces
    return check


def expert(principal: Principal) -> Principal:
    if not principal.is_expert:
        raise ApiError(403, "only an expert may do this, with their own token")
    return principal


def secretariat(principal: Principal) -> Principal:
    """The secretariat's overviews: whoever sees every record reads them (as the dashboard page does)."""
    if not principal.sees_everything:
        raise ApiError(403, "only the secretariat may read this")
    return principal


def page_principal(request: Request, svc: Services) -> Principal | None:
    """The caller of a page: the live session its cookie names, once any second factor is given.

    Never a token in the URL (it would stay in histories, logs and Referer headers)."""
    session = svc.sign_in().sessions.resolve(request.cookies.get(sessions.COOKIE))
    if session is None or session.pending_factor:
        return None
    return principal_of_subject(svc, session.subject)


def principal_of_subject(svc: Services, subject: str) -> Principal | None:
    """Who a session names, as of now. Where staff must give a second factor, a machine administrator's
    session (started before that was asked) names no one: its token cannot give one."""
    if subject == sessions.MACHINE_ADMIN:
        return None if svc.sign_in().totp_for_staff else MACHINE_ADMIN
    if subject.startswith(sessions.EXPERT):
        return _expert_before_accounts(svc, UUID(subject.removeprefix(sessions.EXPERT)))
    if subject.startswith(sessions.ACCOUNT):
        return principal_of_account(svc, UUID(subject.removeprefix(sessions.ACCOUNT)))
    return None


def subject_of(principal: Principal) -> str:
    """How a session names a caller signed in with a token."""
    if principal.account_id is not None:
        return sessions.subject_of_account(principal.account_id)
    if principal.is_expert:
        return f"{sessions.EXPERT}{principal.expert_id}"
    return sessions.MACHINE_ADMIN


def certified_expert(
    principal: Annotated[Principal, Depends(on_the_loop(expert))], svc: Annotated[Services, Depends(services)]
) -> Principal:
    """An expert whose certification was revoked or has ended takes no step on any case; the 403 says why
    (about the caller alone, so it tells nothing of the case). Their past work stays readable."""
    assert principal.expert_id is not None
    try:
        svc.app.get_expert(principal.expert_id).check_certified(svc.now(), "work on a case")
    except (StepNotAllowed, NotFound) as refusal:
        raise ApiError(403, str(refusal)) from None
    return principal


def anyone(principal: Principal) -> Principal:
    """Any signed-in caller; the route itself decides (e.g. a cluster contact on their own cluster only)."""
    return principal


# Who may take which kind of step: the API's routes declare them, and the pages' forms run the same.
only_officers = requires(Role.OFFICER, "only an officer of the secretariat may do this")
only_admins = requires(Role.ADMIN, "only an administrator may manage accounts")
only_deciders = requires(Role.DECIDER, "only a decider may record a certification decision")
only_appeals_panel = requires(Role.APPEALS, "only the appeals panel may decide an appeal")


def check_for_the_cluster(who: Principal, step: str, cluster_id: UUID | None = None) -> None:
    """A step the cluster takes: its contact, or an officer on its behalf. Given the record's `cluster_id`
    (once it is loaded), the contact's own cluster's alone: an account that is also an expert sees
    other clusters' records it audits, and acts for none of them."""
    if who.holds(Role.OFFICER):
        return
    if not who.holds(Role.CLUSTER) or (cluster_id is not None and cluster_id != who.cluster_id):
        raise ApiError(403, f"only the cluster's contact or an officer may {step}")


Caller = Annotated[Principal, Depends(authenticated)]  # any signed-in caller: the route itself decides
Officer = Annotated[Principal, Depends(on_the_loop(only_officers))]
Admin = Annotated[Principal, Depends(on_the_loop(only_admins))]
Decider = Annotated[Principal, Depends(on_the_loop(only_deciders))]
AppealsPanel = Annotated[Principal, Depends(on_the_loop(only_appeals_panel))]
Expert = Annotated[Principal, Depends(certified_expert)]
Staff = Annotated[Principal, Depends(on_the_loop(secretariat))]
