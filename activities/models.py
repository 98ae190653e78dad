"""What crosses the boundary between workflows and activities: one input model per activity, small views back.

Pure pydantic and standard library, so workflow code can import it inside the sandbox. Every input
carries the business instant `at` (the workflow's clock, which the time-skipping server advances) and,
for commands, the idempotency key the workflow derived from domain data.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

WORKFLOW_ACTOR = "system:workflow"


class Boundary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- views ---------------------------------------------------------------------------


class Alarm(Boundary):
    """A moment a workflow must wake up at, and what it then does (computed from the domain)."""

    kind: str = Field(description="reminder | deadline | expiry | renewal_window_close | suspension_limit")
    at: datetime
    step: str | None = Field(default=None, description="the case step a reminder or deadline belongs to")
    offset: str | None = Field(default=None, description="the policy offset of a reminder, e.g. P7D")


class CaseView(Boundary):
    """Where a case stands, as far as its workflow and its callers need to know."""

    case_id: UUID
    cluster_id: UUID
    level: str
    kind: str
    state: str
    version: int
    team: list[UUID] = []
    team_complete: bool = False
    awaiting_proposal: bool = False
    proposed_expert_id: UUID | None = None
    deadlines: dict[str, datetime] = {}
    current_step: str | None = None
    alarms: list[Alarm] = Field(default=[], description="reminders, then the deadline, of the current step")
    needs_attention: bool = False
    attention: list[str] = []
    appeal_lodged: bool = False
    appeal_upheld: bool | None = None
    concluded: bool = False
    label_id: UUID | None = None
    previous_label_id: UUID | None = None

    def phase(self) -> tuple[object, ...]:
        """What a waiting workflow reacts to; escalations and reminders do not change it."""
        return (
            self.state,
            self.proposed_expert_id,
            tuple(self.team),
            self.appeal_lodged,
            self.appeal_upheld,
            self.label_id,
            self.concluded,
        )


class LabelView(Boundary):
    """Where a label stands, and the alarms still pending for it."""

    label_id: UUID
    label_code: str
    case_id: UUID
    cluster_id: UUID
    level: str
    state: str
    version: int
    valid_until: datetime
    renewable_until: datetime
    reminders_sent: list[str] = []
    suspended_until: datetime | None = None
    renewal_case_id: UUID | None = None
    superseded_by: UUID | None = None
    alarms: list[Alarm] = Field(default=[], description="pending, earliest first")
    final: bool = False


class ExpertChoice(Boundary):
    expert_id: UUID | None = None
    candidates: int = 0


class RenewalStarted(Boundary):
    case_id: UUID
    label: LabelView


class LabelIssued(Boundary):
    label_id: UUID
    case: CaseView


# ---- inputs ------------------------------------------------------------------------


class Command(Boundary):
    """What every command activity carries: who, which idempotency key, and when (business time)."""

    actor: str = WORKFLOW_ACTOR
    command_key: str = Field(min_length=1)
    at: datetime
    workflow_id: str | None = None


class CaseRef(Boundary):
    case_id: UUID
    at: datetime


class LabelRef(Boundary):
    label_id: UUID
    at: datetime


class ChooseExpertInput(Boundary):
    case_id: UUID
    at: datetime


class ScreenInput(Command):
    case_id: UUID
    accepted: bool
    reason: str = ""


class ProposeExpertInput(Command):
    case_id: UUID
    expert_id: UUID


class RespondInput(Command):
    case_id: UUID
    expert_id: UUID
    accept: bool
    reason: str = ""


class TimeOutProposalInput(Command):
    case_id: UUID
    expert_id: UUID


class EscalateInput(Command):
    case_id: UUID
    reason: str


class CaseReminderInput(Command):
    case_id: UUID
    step: str
    offset: str
    due: datetime


class AgreementInput(Command):
    case_id: UUID
    agreed: bool


class ScheduleAuditInput(Command):
    case_id: UUID
    audit_date: datetime


class AssessmentInput(Command):
    case_id: UUID
    expert_id: UUID
    scores: dict[str, int]
    evidence: dict[str, str] = {}
    report: str


class DecisionInput(Command):
    case_id: UUID
    outcome: str
    level: str
    rationale: str
    decided_by: str


class AppealInput(Command):
    case_id: UUID
    grounds: str


class AppealDecisionInput(Command):
    case_id: UUID
    upheld: bool
    rationale: str
    decided_by: str


class WithdrawCaseInput(Command):
    case_id: UUID
    reason: str


class CaseCommandInput(Command):
    """A command on a case that needs nothing but the case (issue its label, close it)."""

    case_id: UUID


class LabelCommandInput(Command):
    """A command on a label that needs nothing but the label (expire, close the window, restore)."""

    label_id: UUID


class ExpiryReminderInput(Command):
    label_id: UUID
    offset: str


class LabelReasonInput(Command):
    """Suspend or withdraw a label: both need a reason."""

    label_id: UUID
    reason: str


class StartRenewalInput(Command):
    label_id: UUID
    improvement_areas: list[str] = []
