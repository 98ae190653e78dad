"""The commands on the registers beside cases and labels: clusters, experts, accounts, and the outbox's
messages. None of them is a step of a case or label workflow (see domain/commands.py for those and for
the table of every command).
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from clusterlabel.domain.account import Role
from clusterlabel.domain.base import Level
from clusterlabel.domain.cluster import ClusterProfile, EligibilityCriterion
from clusterlabel.domain.command_base import (
    SHORT_TEXT,
    AccountCommand,
    ClusterCommand,
    Command,
    ExpertCommand,
    ShortProse,
)
from clusterlabel.domain.expert import ExpertProfile
from clusterlabel.domain.instants import Instant
from clusterlabel.domain.text import Prose, Text

# ---- registrations: no workflow, the callers run them through `handle` directly ---------------------
# Their HTTP body is the profile alone. One that creates a record addresses the id its key derives
# (Cluster.create_id, Expert.create_id), as a retry must find the record the first attempt created.


class RegisterCluster(ClusterCommand):
    profile: ClusterProfile


class UpdateClusterProfile(ClusterCommand):
    profile: ClusterProfile


class CloseEligibilityReview(ClusterCommand):
    """The secretariat concludes the review a profile change opened: what it decided about the
    cluster's labels (each suspension or withdrawal is its own step on the label), and why."""

    outcome: Literal["labels_stand", "labels_acted_on"]
    reason: ShortProse


class WaiveEligibilityCriterion(ClusterCommand):
    """An officer waives one eligibility criterion for the cluster (a national programme, say), saying why."""

    criterion: EligibilityCriterion
    reason: ShortProse


class RegisterExpert(ExpertCommand):
    profile: ExpertProfile  # refused for a person already registered (ExpertProfile.identity)


class RenewExpertCertification(ExpertCommand):
    until: Instant = Field(description="the new end of the certification; later than the current one")


class RecordQualification(ExpertCommand):
    """The training or recertification after which the expert is qualified for one level until `until`."""

    level: Level
    until: Instant = Field(description="the end of the qualification; later than a current one at that level")
    training: Text = Field(min_length=1, max_length=SHORT_TEXT, description="the course or recertification taken")
    trained_on: Instant | None = Field(default=None, description="when it was completed; by default now")


class RevokeExpertCertification(ExpertCommand):
    """The certification lapses at the envelope's instant."""

    reason: ShortProse


class DeclareAffiliation(ExpertCommand):
    """An affiliation (a consultancy, a job, a seat on its board) with a cluster, over the period it ran;
    without `until` it goes on. Either date may be left out when not known."""

    cluster_id: UUID
    since: Instant | None = Field(default=None, description="when the affiliation began, if known")
    until: Instant | None = Field(default=None, description="when it ended; none while it goes on")


class OpenAccount(AccountCommand):
    """An account with its roles; the holder's name and e-mail address are kept beside the log, not in it."""

    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    expert_id: UUID | None = Field(default=None, description="with the role expert: the expert it speaks for")
    cluster_id: UUID | None = Field(default=None, description="with the role cluster: the cluster it speaks for")


class GrantRole(AccountCommand):
    role: Role


class RevokeRole(AccountCommand):
    role: Role


class DeactivateAccount(AccountCommand):
    """The account's sessions and tokens stop working at once; its past acts stay in the log."""

    reason: Prose = Field(default="deactivated by an administrator", min_length=1, max_length=SHORT_TEXT)


class EraseAccount(AccountCommand):
    """The person's name and address are erased beside the log; the log records only that it happened."""


# ---- the outbox: a message's delivery (activities/delivery.py) and an officer's retry ------------------


class NotificationCommand(Command, subject="notification"):
    pass


class RecordSent(NotificationCommand):
    """The message went out: how, to whom (accounts or the secretariat, never an address), as what."""

    channel: Text = Field(min_length=1, max_length=100, description="how it went out: email or maildir")
    recipients: list[Text] = Field(min_length=1, max_length=100, description="account:<id>, or secretariat")
    message_id: Text = Field(min_length=1, max_length=300, description="its Message-ID header")
    reply: Prose = Field(default="", max_length=SHORT_TEXT, description="what the mail server answered")
    attempts: int = Field(ge=1, description="the tries it took")


class RecordDeliveryFailure(NotificationCommand):
    """Every try failed: why the last one did."""

    reason: ShortProse
    attempts: int = Field(ge=1)


class RetryDelivery(NotificationCommand):
    """Queue a failed message again (an officer's step): its delivery starts over."""


# Listed in domain/commands.COMMANDS, in this order.
COMMANDS: tuple[type[Command], ...] = (
    RegisterCluster,
    UpdateClusterProfile,
    WaiveEligibilityCriterion,
    CloseEligibilityReview,
    RegisterExpert,
    RenewExpertCertification,
    RecordQualification,
    RevokeExpertCertification,
    DeclareAffiliation,
    OpenAccount,
    GrantRole,
    RevokeRole,
    DeactivateAccount,
    EraseAccount,
    RecordSent,
    RecordDeliveryFailure,
    RetryDelivery,
)
