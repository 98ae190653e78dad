"""What crosses the boundary between workflows and activities: a command run in, a view of its subject back.

Pure pydantic and the domain's commands, so workflow code can import it inside the sandbox. Every input
carries the business instant `at` (the workflow's clock, which the time-skipping server advances).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.commands import command_name


class Boundary(BaseModel):
    # Stored in workflow histories for years: unknown fields are ignored, so that a field added later
    # (always with a default) or removed does not break replay or an older worker in a rolling deploy.
    model_config = ConfigDict(frozen=True, extra="ignore")


# ---- views ---------------------------------------------------------------------------


class Alarm(Boundary):
    """A moment a workflow must wake up at, and what it then does (computed from the domain)."""

    kind: str = Field(description="reminder | deadline | expiry | renewal_window_close | suspension_limit")
    at: datetime
    step: str | None = Field(default=None, description="the case step a reminder or deadline belongs to")
    offset: str | None = Field(default=None, description="the policy offset of a reminder, e.g. P7D")


class RecordView(Boundary):
    """What every record's view carries beside its own fields."""

    # The record's latest command keys (RecordedAggregate.recent_command_keys): a step asked again under
    # one of them was taken already, and is answered, not refused, by the workflow's update validator.
    recent_keys: tuple[str, ...] = ()


class Visit(Boundary):
    """The audit's interview or visit (domain/case_visit.py): None fields for one scheduled before it held them."""

    audit_date: datetime
    mode: str | None = Field(default=None, description="on_site | video")
    place: str = ""
    duration: str | None = Field(default=None, description="PT4H, P2D, ...")
    held_on: datetime | None = Field(default=None, description="the day it took place, once recorded")


class CaseView(RecordView):
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
    appeal_window_to_open: bool = Field(default=False, description="an award below the level applied for, unopened")
    appealed_label_id: UUID | None = Field(default=None, description="the label of an award upheld on appeal")
    catalogue_version: str = ""
    recommended_level: str | None = None
    submitted_at: datetime | None = None
    assessment_version: int = Field(default=0, description="a team's assessment: the version awaiting signatures")
    signed_by: list[UUID] = Field(default=[], description="the team experts who signed the current version")
    visit: Visit | None = Field(default=None, description="the audit, once scheduled")
    improvement_areas: list[str] = Field(default=[], description="Silver: the Gold indicator codes of its areas")
    improvement_descriptions: list[dict[str, str]] = Field(default=[], description="Silver: on ESCA's form")
    silver_validation: dict[str, Any] | None = Field(default=None, description="Silver: domain/silver.Validation")

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


class LabelAppealView(Boundary):
    """An appeal against a label's suspension or withdrawal (domain/label_appeal.py)."""

    against: str = Field(description="suspended | withdrawn: the decision appealed against")
    grounds: str
    lodged_at: datetime
    upheld: bool | None = Field(default=None, description="None while the appeals panel has not decided")
    rationale: str = ""


class LabelView(RecordView):
    """Where a label stands, and the alarms still pending for it."""

    label_id: UUID
    label_code: str
    case_id: UUID | None  # None: imported (imported_from says from where)
    cluster_id: UUID
    level: str
    state: str
    version: int
    valid_until: datetime
    renewable_until: datetime
    reminders_sent: list[str] = []
    suspended_until: datetime | None = None
    renewal_case_id: UUID | None = None
    held_until: datetime | None = None  # when what last held off its lapse ended (RenewalWindow.held_until)
    superseded_by: UUID | None = None
    alarms: list[Alarm] = Field(default=[], description="pending, earliest first")
    final: bool = False
    state_since: datetime | None = None
    cluster_name: str = ""
    country: str = ""
    catalogue_version: str = ""
    expert_ids: list[UUID] = []
    decided_at: datetime | None = None
    valid_from: datetime | None = None
    supersedes: UUID | None = None
    imported_from: str | None = None
    appeal: LabelAppealView | None = None
    appeal_due: datetime | None = Field(
        default=None, description="until when its suspension or withdrawal may be appealed"
    )


class ComplaintView(RecordView):
    """Where a complaint stands (activities/complaints.py builds it), and the alarms of its current step."""

    complaint_id: UUID
    about: str
    cluster_id: UUID
    label_id: UUID | None = None
    state: str
    version: int
    lodged_at: datetime
    deadlines: dict[str, datetime] = {}
    alarms: list[Alarm] = Field(default=[], description="reminders, then the deadline, of the current step")
    outcome: str | None = None
    finding: str = ""
    escalations: list[str] = []
    open: bool = True


class ExpertChoice(Boundary):
    expert_id: UUID | None = None
    candidates: int = 0


# ---- inputs ------------------------------------------------------------------------


class CaseRef(Boundary):
    case_id: UUID
    at: datetime


class LabelRef(Boundary):
    label_id: UUID
    at: datetime


class ComplaintRef(Boundary):
    complaint_id: UUID
    at: datetime


class ChooseExpertInput(Boundary):
    case_id: UUID
    at: datetime


class CommandRun(Boundary):
    """One command for the aggregate `subject_id`, as it crosses into an activity: the command by
    name with its fields (domain/commands.py decodes it), and its envelope, stamped with `at`."""

    subject_id: UUID
    name: str
    command: dict[str, Any]
    envelope: Envelope


def command_run(subject_id: UUID, command: Command, envelope: Envelope) -> CommandRun:
    return CommandRun(
        subject_id=subject_id, name=command_name(command), command=command.model_dump(mode="json"), envelope=envelope
    )


# ---- delivery (activities/delivery.py) ---------------------------------------------------------


class SendMessage(Boundary):
    notification_id: UUID


class DeliveryOutcome(Boundary):
    """What one delivery came to: sent (how, to whom, the server's reply), failed (why), or skipped (the
    message was no longer queued: sent or failed before this run)."""

    notification_id: UUID
    status: Literal["sent", "failed", "skipped"]
    round: int = Field(default=0, description="the message's round the delivery was for (0: the current one)")
    attempts: int = 0
    channel: str = ""
    recipients: list[str] = []
    message_id: str = ""
    reply: str = Field(default="", description="the server's reply when sent; why not, when failed")
