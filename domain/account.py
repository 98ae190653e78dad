"""A person's account: which roles they hold, since when, and on whose grant.

Every change is an event, so the log answers "who could decide on this date". The account holds no
personal data: its holder's name and e-mail address live beside the event store (interfaces/web/people.py),
where an erasure request can remove them without rewriting a single event; histories name the account
(`account:<id>`), never the person.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain.base import ImpartialityViolation, InvalidInput, RecordedAggregate, StepNotAllowed

ACTOR_PREFIX = "account:"
L = TypeVar("L")  # a link to an expert or a cluster: its id (the account), or the id's text (a view)


class Role(StrEnum):
    ADMIN = "admin"  # manages accounts and roles
    OFFICER = "officer"  # intake, screening, agreement, scheduling, suspension, restoration, withdrawal
    DECIDER = "decider"  # certification decisions, never on a case they helped evaluate
    APPEALS = "appeals"  # appeal decisions, never the first decider's nor an auditor's
    EXPERT = "expert"  # one expert record's own work
    CLUSTER = "cluster"  # a contact person of one cluster


# Why an erased account was deactivated; no more is said (the request itself may name the person).
ERASURE_REASON = "its person's data was erased"
# The secretariat: whoever holds one of these reads every record.
STAFF_ROLES = frozenset({Role.ADMIN, Role.OFFICER, Role.DECIDER, Role.APPEALS})
# A cluster's contact speaks for an applicant: with a role of the secretariat it would screen, decide, judge
# appeals on or restore its own cluster's certification (DOMAIN.md: decisions by people not involved).
APPLICANT_APART = (
    "a cluster's contact holds no role of the secretariat (admin, officer, decider, appeals): "
    "it would act on its own cluster's certification; open a separate account for the secretariat's work"
)


def actor_of(account_id: UUID) -> str:
    """How the event log names an account's acts."""
    return f"{ACTOR_PREFIX}{account_id}"


def account_id_of(actor: str) -> UUID | None:
    """The account an actor names, or None for another kind of actor (the machine administrator,
    an automatic step, an expert's token from before accounts)."""
    if not actor.startswith(ACTOR_PREFIX):
        return None
    try:
        return UUID(actor.removeprefix(ACTOR_PREFIX))
    except ValueError:
        return None


def check_links(roles: Iterable[Role], expert_id: UUID | None, cluster_id: UUID | None) -> None:
    """An expert account speaks for one expert record and a contact for one cluster: the link comes
    with the role, never without it."""
    held = set(roles)
    problems = []
    if (Role.EXPERT in held) != (expert_id is not None):
        problems.append("the role expert and an expert_id go together: an expert account speaks for one expert")
    if (Role.CLUSTER in held) != (cluster_id is not None):
        problems.append("the role cluster and a cluster_id go together: a contact speaks for one cluster")
    if Role.CLUSTER in held and held & STAFF_ROLES:
        problems.append(APPLICANT_APART)
    if not held:
        problems.append("an account needs at least one role")
    if problems:
        raise InvalidInput("; ".join(problems), problems)


def links_without(role: Role, expert_id: L | None, cluster_id: L | None) -> tuple[L | None, L | None]:
    """The (expert_id, cluster_id) an account keeps once `role` is revoked: the role's link ends with it
    (it stays in the log, not on the account). The account and the views that follow it both apply it."""
    return (None if role is Role.EXPERT else expert_id, None if role is Role.CLUSTER else cluster_id)


class Account(RecordedAggregate):
    """One person's way in, and the roles it carries."""

    id_kind = "account"

    @event("Opened")
    def __init__(
        self, roles: list[str], expert_id: UUID | None, cluster_id: UUID | None, actor: str, command_key: str
    ) -> None:
        self.roles = {Role(role) for role in roles}
        self.expert_id = expert_id
        # Every expert record the account ever spoke for: revoking the role ends the link, never the
        # impartiality rules' memory of whose audits it took part in.
        self.spoke_for: frozenset[UUID] = frozenset({expert_id}) if expert_id else frozenset()
        self.cluster_id = cluster_id
        # The cluster it spoke for, if any (a link comes only at opening): kept once the role is revoked, so
        # that a former contact takes no role of the secretariat either.
        self.spoke_for_cluster = cluster_id
        self.active = True
        self.erased = False

    @classmethod
    def open(
        cls, roles: Iterable[Role], expert_id: UUID | None, cluster_id: UUID | None, actor: str, command_key: str
    ) -> Account:
        check_links(roles, expert_id, cluster_id)
        return cls(sorted(role.value for role in set(roles)), expert_id, cluster_id, actor, command_key)

    @property
    def actor(self) -> str:
        return actor_of(self.id)

    def holds(self, role: Role) -> bool:
        return self.active and role in self.roles

    def grant(self, role: Role, actor: str, command_key: str) -> None:
        self._check_active("be granted a role")
        check_links(self.roles | {role}, self.expert_id, self.cluster_id)
        if role in STAFF_ROLES and self.spoke_for_cluster is not None:
            raise StepNotAllowed(f"account {self.id} spoke for cluster {self.spoke_for_cluster}: {APPLICANT_APART}")
        if role not in self.roles:
            self._role_granted(role=role.value, actor=actor, command_key=command_key)

    @event("RoleGranted")
    def _role_granted(self, role: str, actor: str, command_key: str) -> None:
        self.roles.add(Role(role))

    def revoke(self, role: Role, actor: str, command_key: str) -> None:
        self._check_active("lose a role")
        if role in self.roles:
            check_links(self.roles - {role}, *links_without(role, self.expert_id, self.cluster_id))
            self._role_revoked(role=role.value, actor=actor, command_key=command_key)

    @event("RoleRevoked")
    def _role_revoked(self, role: str, actor: str, command_key: str) -> None:
        self.roles.discard(Role(role))
        self.expert_id, self.cluster_id = links_without(Role(role), self.expert_id, self.cluster_id)

    def deactivate(self, reason: str, actor: str, command_key: str) -> None:
        if self.active:
            self._deactivated(reason=reason, actor=actor, command_key=command_key)

    @event("Deactivated")
    def _deactivated(self, reason: str, actor: str, command_key: str) -> None:
        self.active = False

    def erase(self, actor: str, command_key: str, still_certified: Iterable[UUID] = ()) -> None:
        """Record that the person's data was erased (it lives beside the log, which only says so): the
        account is deactivated first, and every act it took stays in the log under its id.

        `still_certified`: the expert records it speaks for whose certification still runs. Those are
        revoked first (which takes the expert off their open cases): else, their name erased and their
        account closed, cases would go on proposing someone who can no longer answer."""
        certified = sorted(str(expert_id) for expert_id in still_certified)
        if certified and not self.erased:
            raise StepNotAllowed(
                f"expert {', '.join(certified)} is still certified: revoke the certification first "
                "(POST /experts/{id}/revocation, which takes them off their open cases), then erase the account"
            )
        self.deactivate(ERASURE_REASON, actor, command_key)
        if not self.erased:
            self._erased(actor=actor, command_key=command_key)

    @event("Erased")
    def _erased(self, actor: str, command_key: str) -> None:
        self.erased = True

    def check_may(self, role: Role, step: str) -> None:
        """Refuse a step the account may not take: it does not hold the role (now, when it acts)."""
        if not self.holds(role):
            raise ImpartialityViolation(f"{self.actor} does not hold the role {role.value} and cannot {step}")

    def _check_active(self, what: str) -> None:
        if not self.active:
            raise StepNotAllowed(f"account {self.id} is deactivated and cannot {what}")
