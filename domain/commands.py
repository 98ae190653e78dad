"""Every command the engine accepts, as data: one model per command, holding what it needs and nothing else.

The steps of cases are defined here, those of labels in domain/label_commands.py (re-exported), the
commands on the other registers in domain/record_commands.py; COMMANDS lists them all. What a command is, and the envelope beside it, is in
domain/command_base.py. Where the server fills in a field from the caller (the expert who answers or
assesses), the HTTP body is the command's base class (ProposalAnswer, Assessment).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field, model_validator

from clusterlabel.domain import (
    complaint_commands,
    digest,
    evidence_commands,
    fee_commands,
    label_import,
    record_commands,
    webhook_commands,
)
from clusterlabel.domain.base import Level
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue import AreaSummary, IndicatorScore
from clusterlabel.domain.command_base import (
    SHORT_TEXT,
    Appeal,
    AppealDecision,
    CaseCommand,
    ClusterCommand,
    Command,
    LongProse,
    ShortProse,
)
from clusterlabel.domain.fees import AuditMode
from clusterlabel.domain.instants import Instant
from clusterlabel.domain.label_commands import (
    CloseRenewalWindow,
    DecideLabelAppeal,
    ExpireLabel,
    LodgeLabelAppeal,
    RemindExpiry,
    RestoreLabel,
    StartRenewal,
    SuspendLabel,
    WithdrawLabel,
)
from clusterlabel.domain.silver import DescribedArea, SilverValidation
from clusterlabel.domain.text import RECORDED, Flag, Prose, Text, WholeNumber

# Parts of commands, defined beside the rules that check them; the label commands beside their kin.
__all__ = [
    "AreaSummary",
    "CloseRenewalWindow",
    "DecideLabelAppeal",
    "DescribedArea",
    "ExpireLabel",
    "IndicatorScore",
    "LodgeLabelAppeal",
    "RemindExpiry",
    "RestoreLabel",
    "SilverValidation",
    "StartRenewal",
    "SuspendLabel",
    "WithdrawLabel",
]

# ---- cases --------------------------------------------------------------------------------


class SubmitApplication(ClusterCommand):
    """A cluster applies for a label: a new case (the cluster is the aggregate it addresses)."""

    cluster_id: UUID
    level: Level
    # Silver only: three Gold indicator codes, each alone or on ESCA's form {area, actions, evidence}.
    improvement_areas: list[Text | DescribedArea] = Field(default_factory=list, max_length=10)
    benchmarking_only: Flag = Field(
        default=False, description="the report without a label: open to a cluster missing an eligibility criterion"
    )


class Screen(CaseCommand, domain_step="screen"):
    """Accept the application into assignment, or reject it (with a reason)."""

    accepted: Flag
    reason: Prose = Field(default="", max_length=SHORT_TEXT)


class ProposeExpert(CaseCommand):
    expert_id: UUID


class ProposalAnswer(CaseCommand):
    """What the proposed expert answers: accept, declaring no conflict of interest with the cluster, or
    decline with a reason (ISO/IEC 17065 §4.2). An acceptance that leaves the declaration out is taken, as
    before the declaration was asked for, and the expert's record shows none for the case."""

    accept: Flag
    reason: Prose = Field(default="", max_length=SHORT_TEXT)
    no_conflict_declared: bool | None = Field(
        default=None, description="on accepting: true declares no conflict of interest with the cluster"
    )

    @model_validator(mode="after")
    def _no_acceptance_with_a_conflict(self) -> ProposalAnswer:
        if self.accept and self.no_conflict_declared is False:
            raise ValueError("an expert with a conflict of interest declines the proposal, giving it as the reason")
        return self


class AnswerProposal(ProposalAnswer):
    """The proposed expert's answer; the expert is the caller."""

    expert_id: UUID


class TimeOutProposal(CaseCommand):
    expert_id: UUID


class Escalate(CaseCommand):
    reason: ShortProse


class RemindDeadline(CaseCommand):
    """Tell the secretariat (and for the audit, the experts) that a step is due soon."""

    step: Text
    offset: Text
    due: datetime


class RecordAgreement(CaseCommand, domain_step="record_agreement"):
    agreed: Flag
    audit_mode: AuditMode = Field(
        default=AuditMode.ON_SITE,
        description="how the audit is held, which sets its price (by video: Bronze only) and the visit's default mode",
    )


# A visit lasts whole hours (up to a day) or whole days (up to five): PT4H, P2D.
VISIT_DURATION = r"^(PT([1-9]|1[0-9]|2[0-4])H|P[1-5]D)$"


class ScheduleAudit(CaseCommand, domain_step="schedule_audit"):
    """The audit's interview or visit: before the audit deadline, while every team expert is certified."""

    audit_date: Instant = Field(description="with its UTC offset, between 1970 and 2200; kept in UTC")
    mode: AuditMode | None = Field(default=None, description="on_site or video; the agreement's mode when left out")
    place: Text = Field(default="", max_length=SHORT_TEXT, description="where it is held; needed on site")
    duration: str | None = Field(default=None, pattern=VISIT_DURATION, description="PT1H to PT24H, or P1D to P5D")


class AuditHolding(CaseCommand, domain_step="record_audit_held"):
    """The audit took place: on its scheduled date unless `held_on` names another (never in the future)."""

    held_on: Instant | None = Field(default=None, description="with its UTC offset; the scheduled date when left out")


class RecordAuditHeld(AuditHolding):
    """A team expert records that the audit was held; None when an officer records it for the team."""

    expert_id: UUID | None = None


class Assessment(CaseCommand, domain_step="submit_assessment"):
    """The scores on every indicator of the case's catalogue, and the report."""

    indicators: list[IndicatorScore] = Field(min_length=1, max_length=200)
    report: LongProse
    # The findings the benchmarking report shows beside the scores: per area, and on the cluster as a whole.
    area_summaries: list[AreaSummary] = Field(default_factory=list, max_length=50)
    strengths: Prose = Field(default="", max_length=SHORT_TEXT * 4)
    areas_for_improvement: Prose = Field(default="", max_length=SHORT_TEXT * 4)
    success_stories: Prose = Field(default="", max_length=SHORT_TEXT * 4)
    validation: SilverValidation | None = None  # Silver only: verdicts on its improvement areas and the baseline


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


class Signature(CaseCommand, domain_step="sign_assessment"):
    """A team expert signs the current version of the team's assessment (Gold: both experts sign)."""

    version: WholeNumber | None = Field(
        default=None, ge=1, description="the version signed; refused if it is not the current"
    )


class SignAssessment(Signature):
    """A team expert's signature; the expert is the caller."""

    expert_id: UUID


class Decision(CaseCommand):
    """A decision of the secretariat, with its rationale. Who decides is the envelope's actor (the
    decider's account), which the impartiality rules compare; histories recorded before accounts carried
    a `decided_by` field here, which is now ignored."""

    rationale: LongProse


class RecordDecision(Decision, domain_step="record_decision"):
    """Award (the level applied for, unless `level` says less) or refuse."""

    outcome: Outcome
    level: Level | None = Field(default=None, description="the level awarded; defaults to the level applied for")


class LodgeAppeal(CaseCommand, Appeal):
    pass


class DecideAppeal(AppealDecision, Decision):
    """Uphold the appeal (the case goes back to a new decision) or dismiss it."""


class ReleaseExpert(CaseCommand, domain_step="release_expert"):
    """Take an expert off the case: their certification was revoked, or an affiliation with the cluster
    was recorded, while they were on it."""

    expert_id: UUID
    reason: ShortProse


class WithdrawCase(CaseCommand, domain_step="withdraw"):
    reason: ShortProse


class IssueLabel(CaseCommand):
    """The awarded case's label (superseding the label it renews, if any)."""


class FreezeReport(CaseCommand):
    """Record the SHA-256 of the case's benchmarking report as rendered for its decision, so that a copy
    can be checked against the log later."""

    sha256: Text = Field(pattern="^[0-9a-f]{64}$", description="of the PDF, in lower-case hex")
    size: WholeNumber = Field(ge=1, description="of the PDF, in bytes")


class OpenAppealWindow(CaseCommand):
    """An award below the level applied for, its label issued: the cluster may appeal it from now on."""


class CloseCase(CaseCommand):
    """The case has concluded: the cluster may open another round at its level."""


_ALL_COMMANDS: tuple[type[Command], ...] = (
    SubmitApplication,
    Screen,
    ProposeExpert,
    AnswerProposal,
    TimeOutProposal,
    Escalate,
    RemindDeadline,
    RecordAgreement,
    ScheduleAudit,
    RecordAuditHeld,
    SubmitAssessment,
    SignAssessment,
    RecordDecision,
    LodgeAppeal,
    DecideAppeal,
    WithdrawCase,
    ReleaseExpert,
    IssueLabel,
    OpenAppealWindow,
    CloseCase,
    FreezeReport,
    RemindExpiry,
    ExpireLabel,
    CloseRenewalWindow,
    SuspendLabel,
    RestoreLabel,
    WithdrawLabel,
    LodgeLabelAppeal,
    DecideLabelAppeal,
    StartRenewal,
    label_import.ImportLabel,
    *record_commands.COMMANDS,
    *webhook_commands.COMMANDS,
    digest.SendDigest,
    *complaint_commands.COMMANDS,
    evidence_commands.AttachEvidence,
    fee_commands.RecordPayment,
)
COMMANDS: dict[str, type[Command]] = {kind.__name__: kind for kind in _ALL_COMMANDS}


def command_name(command: Command) -> str:
    """The command's name as it travels: an HTTP body that extends a command travels as that command."""
    for kind in type(command).__mro__:
        if kind.__name__ in COMMANDS:
            return kind.__name__
    raise TypeError(f"{type(command).__name__} is not a command of COMMANDS (a body must extend one to travel as it)")


def decode_command(name: str, data: dict[str, Any]) -> Command:
    """A command from its name and fields, as it crosses a process boundary (read as recorded: RECORDED)."""
    return COMMANDS[name].model_validate(data, context=RECORDED)
