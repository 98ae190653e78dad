"""Every command the engine accepts, as data: one model per command, holding what it needs and nothing else.

The same model is the core of its HTTP request's body (interfaces/web/schemas.py), the argument of the
workflow update that orders it, the input of the activity that runs it and the input of its handler
(activities/handlers.py maps each type to one). Where the server fills in a field from the caller (the
expert who answers or assesses), the body is the command's base class (ProposalAnswer, Assessment). Who sends it, under which idempotency key and when
travel beside it in an `Envelope`, never inside it.

Commands ignore unknown fields: they are stored in Temporal histories for years and read by older and
newer workers during a rolling deploy. The HTTP bodies built from them refuse unknown fields instead, so
that a client's typo is a 422 rather than a silently ignored answer.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clusterlabel.domain.account import Role
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue import IndicatorScore
from clusterlabel.domain.cluster import ClusterProfile, EligibilityCriterion
from clusterlabel.domain.expert import ExpertProfile
from clusterlabel.domain.instants import Instant
from clusterlabel.domain.text import RECORDED, Prose, Text

SHORT_TEXT = 2_000
LONG_TEXT = 50_000
__all__ = ["IndicatorScore"]  # part of SubmitAssessment, defined beside the catalogue that checks it


def command_key(*parts: object) -> str:
    """The one idempotency-key scheme: the parts that name one occurrence of a command, joined by ':'.

    - a step on a case or label: ("case" | "label", its id, the step, the occurrence); the occurrence
      is the caller's Idempotency-Key, a fresh uuid when they gave none, or for an automatic step the
      domain data that makes it unique (an expert id, a due instant) — never a Temporal activity id,
      which restarts after continue-as-new;
    - a command that creates a record over HTTP: ("http", what it creates, the Idempotency-Key or a
      fresh uuid).
    The same key is the Temporal update id of a human step, so a retried request is answered once by
    the workflow, and the `command_key` of the events it records, so a retry records nothing twice.
    """
    return ":".join(str(part) for part in parts)


def fresh_occurrence(given: str | None) -> str:
    """The caller's Idempotency-Key, or a new one: a request without a key is a new command."""
    return given or uuid.uuid4().hex


class Envelope(BaseModel):
    """Who sends a command, under which idempotency key, and when (business time; the workflow's clock)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    actor: str = Field(min_length=1, description="who takes the step, e.g. secretariat or expert:<id>")
    key: str = Field(min_length=1, description="the idempotency key (see command_key)")
    at: datetime | None = Field(default=None, description="when; None means the application's clock")

    def stamped(self, at: datetime) -> Envelope:
        return self.model_copy(update={"at": at})


class Command(BaseModel):
    """A command: what the sender asks for. Subclasses name the aggregate they address and, for a
    human step, the domain's step (CASE_STEPS, LABEL_STEPS) whose state rules it must pass."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)
    subject: ClassVar[str] = ""
    domain_step: ClassVar[str] = ""

    @classmethod
    def name(cls) -> str:
        """The command's name as it travels: an HTTP body that extends a command travels as it."""
        for kind in cls.__mro__:
            if kind.__name__ in COMMANDS:
                return kind.__name__
        raise TypeError(f"{cls.__name__} is not a command of COMMANDS (a body must extend one to travel as it)")


class CaseCommand(Command):
    subject: ClassVar[str] = "case"


class LabelCommand(Command):
    subject: ClassVar[str] = "label"


class ClusterCommand(Command):
    subject: ClassVar[str] = "cluster"


class ExpertCommand(Command):
    subject: ClassVar[str] = "expert"


class AccountCommand(Command):
    subject: ClassVar[str] = "account"


# ---- cases --------------------------------------------------------------------------------


class SubmitApplication(ClusterCommand):
    """A cluster applies for a label: a new case (the cluster is the aggregate it addresses)."""

    cluster_id: UUID
    level: Level
    improvement_areas: list[Text] = Field(
        default_factory=list, max_length=10, description="Silver only: exactly three indicator codes"
    )
    benchmarking_only: bool = Field(
        default=False, description="the report without a label: open to a cluster missing an eligibility criterion"
    )


class Screen(CaseCommand):
    """Accept the application into assignment, or reject it (with a reason)."""

    domain_step: ClassVar[str] = "screen"
    accepted: bool
    reason: Prose = Field(default="", max_length=SHORT_TEXT)


class ProposeExpert(CaseCommand):
    expert_id: UUID


class ProposalAnswer(CaseCommand):
    """What the proposed expert answers: accept, or decline with a reason."""

    accept: bool
    reason: Prose = Field(default="", max_length=SHORT_TEXT)


class AnswerProposal(ProposalAnswer):
    """The proposed expert's answer; the expert is the caller."""

    expert_id: UUID


class TimeOutProposal(CaseCommand):
    expert_id: UUID


class Escalate(CaseCommand):
    reason: Prose = Field(min_length=1, max_length=SHORT_TEXT)


class RemindDeadline(CaseCommand):
    """Tell the secretariat (and for the audit, the experts) that a step is due soon."""

    step: Text
    offset: Text
    due: datetime


class RecordAgreement(CaseCommand):
    domain_step: ClassVar[str] = "record_agreement"
    agreed: bool


class ScheduleAudit(CaseCommand):
    domain_step: ClassVar[str] = "schedule_audit"
    audit_date: Instant = Field(description="with its UTC offset, between 1970 and 2200; kept in UTC")


class Assessment(CaseCommand):
    """The scores on every indicator of the case's catalogue, and the report."""

    domain_step: ClassVar[str] = "submit_assessment"
    indicators: list[IndicatorScore] = Field(min_length=1, max_length=200)
    report: Prose = Field(min_length=1, max_length=LONG_TEXT)


class SubmitAssessment(Assessment):
    """An assigned expert submits the assessment; the expert is the caller."""

    expert_id: UUID

    @model_validator(mode="before")
    @classmethod
    def _from_score_maps(cls, data: Any) -> Any:
        """Workflow histories recorded before commands were data carry `scores` and `evidence` maps."""
        if isinstance(data, dict) and "indicators" not in data and isinstance(data.get("scores"), dict):
            evidence = data.get("evidence") or {}
            items = [
                {"code": code, "score": score, "evidence": evidence.get(code, "")}
                for code, score in data["scores"].items()
            ]
            return {**data, "indicators": items}
        return data


class Signature(CaseCommand):
    """A team expert signs the current version of the team's assessment (Gold: both experts sign)."""

    domain_step: ClassVar[str] = "sign_assessment"
    version: int | None = Field(default=None, ge=1, description="the version signed; refused if it is not the current")


class SignAssessment(Signature):
    """A team expert's signature; the expert is the caller."""

    expert_id: UUID


class Decision(CaseCommand):
    """A decision of the secretariat, with its rationale. Who decides is the envelope's actor (the
    decider's account), which the impartiality rules compare; histories recorded before accounts carried
    a `decided_by` field here, which is now ignored."""

    rationale: Prose = Field(min_length=1, max_length=LONG_TEXT)


class RecordDecision(Decision):
    """Award (the level applied for, unless `level` says less) or refuse."""

    domain_step: ClassVar[str] = "record_decision"
    outcome: Outcome
    level: Level | None = Field(default=None, description="the level awarded; defaults to the level applied for")


class LodgeAppeal(CaseCommand):
    domain_step: ClassVar[str] = "lodge_appeal"
    grounds: Prose = Field(min_length=1, max_length=LONG_TEXT)


class DecideAppeal(Decision):
    """Uphold the appeal (the case goes back to a new decision) or dismiss it."""

    domain_step: ClassVar[str] = "decide_appeal"
    upheld: bool


class ReleaseExpert(CaseCommand):
    """Take an expert off the case: their certification was revoked while they were on it."""

    domain_step: ClassVar[str] = "release_expert"
    expert_id: UUID
    reason: Prose = Field(min_length=1, max_length=SHORT_TEXT)


class WithdrawCase(CaseCommand):
    domain_step: ClassVar[str] = "withdraw"
    reason: Prose = Field(min_length=1, max_length=SHORT_TEXT)


class IssueLabel(CaseCommand):
    """The awarded case's label (superseding the label it renews, if any)."""


class CloseCase(CaseCommand):
    """The case has concluded: the cluster may open another round at its level."""


# ---- labels ---------------------------------------------------------------------------------


class RemindExpiry(LabelCommand):
    offset: Text


class ExpireLabel(LabelCommand):
    """The label's validity has run out."""


class CloseRenewalWindow(LabelCommand):
    """The renewal window has closed without a renewal: the label lapses."""


class SuspendLabel(LabelCommand):
    domain_step: ClassVar[str] = "suspend"
    reason: Prose = Field(min_length=1, max_length=SHORT_TEXT)


class RestoreLabel(LabelCommand):
    domain_step: ClassVar[str] = "restore"


class WithdrawLabel(LabelCommand):
    domain_step: ClassVar[str] = "withdraw"
    reason: Prose = Field(min_length=1, max_length=SHORT_TEXT)


class StartRenewal(LabelCommand):
    domain_step: ClassVar[str] = "start_renewal"
    improvement_areas: list[Text] = Field(
        default_factory=list, max_length=10, description="Silver only: exactly three indicator codes"
    )


# ---- registrations: no workflow, the callers run them through `handle` directly ---------------------
# Their HTTP body is the profile alone. One that creates a record addresses the id its key derives
# (Cluster.create_id, Expert.create_id), as a retry must find the record the first attempt created.


class RegisterCluster(ClusterCommand):
    profile: ClusterProfile


class UpdateClusterProfile(ClusterCommand):
    profile: ClusterProfile


class WaiveEligibilityCriterion(ClusterCommand):
    """An officer waives one eligibility criterion for the cluster (a national programme, say), saying why."""

    criterion: EligibilityCriterion
    reason: Prose = Field(min_length=1, max_length=SHORT_TEXT)


class RegisterExpert(ExpertCommand):
    profile: ExpertProfile  # refused for a person already registered (ExpertProfile.identity)


class RenewExpertCertification(ExpertCommand):
    until: Instant = Field(description="the new end of the certification; later than the current one")


class RevokeExpertCertification(ExpertCommand):
    """The certification lapses at the envelope's instant."""

    reason: Prose = Field(min_length=1, max_length=SHORT_TEXT)


class DeclareAffiliation(ExpertCommand):
    cluster_id: UUID


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


class NotificationCommand(Command):
    subject: ClassVar[str] = "notification"


class RecordSent(NotificationCommand):
    """The message went out: how, to whom (accounts or the secretariat, never an address), as what."""

    channel: Text = Field(min_length=1, max_length=100, description="how it went out: email or maildir")
    recipients: list[Text] = Field(min_length=1, max_length=100, description="account:<id>, or secretariat")
    message_id: Text = Field(min_length=1, max_length=300, description="its Message-ID header")
    reply: Prose = Field(default="", max_length=SHORT_TEXT, description="what the mail server answered")
    attempts: int = Field(ge=1, description="the tries it took")


class RecordDeliveryFailure(NotificationCommand):
    """Every try failed: why the last one did."""

    reason: Prose = Field(min_length=1, max_length=SHORT_TEXT)
    attempts: int = Field(ge=1)


class RetryDelivery(NotificationCommand):
    """Queue a failed message again (an officer's step): its delivery starts over."""


COMMANDS: dict[str, type[Command]] = {
    kind.__name__: kind
    for kind in (
        SubmitApplication,
        Screen,
        ProposeExpert,
        AnswerProposal,
        TimeOutProposal,
        Escalate,
        RemindDeadline,
        RecordAgreement,
        ScheduleAudit,
        SubmitAssessment,
        SignAssessment,
        RecordDecision,
        LodgeAppeal,
        DecideAppeal,
        WithdrawCase,
        ReleaseExpert,
        IssueLabel,
        CloseCase,
        RemindExpiry,
        ExpireLabel,
        CloseRenewalWindow,
        SuspendLabel,
        RestoreLabel,
        WithdrawLabel,
        StartRenewal,
        RegisterCluster,
        UpdateClusterProfile,
        WaiveEligibilityCriterion,
        RegisterExpert,
        RenewExpertCertification,
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
}


def decode_command(name: str, data: dict[str, Any]) -> Command:
    """A command from its name and fields, as it crosses a process boundary (read as recorded: RECORDED)."""
    return COMMANDS[name].model_validate(data, context=RECORDED)
