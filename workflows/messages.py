"""The messages the certification workflows accept: workflow inputs, updates and signals.

One model per message, so that fields can be added compatibly. Every human step names its actor and may
carry the caller's idempotency key; without one, the Temporal update id serves (a retried update with
the same id is answered once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.base import Level
from domain.certification_case import Outcome


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HumanStep(Message):
    actor: str = Field(min_length=1, description="who takes the step, e.g. secretariat:anna")
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


# ---- workflow inputs ------------------------------------------------------------------


class CaseWorkflowInput(Message):
    case_id: UUID
    # Handed to the workflow of the label this case may lead to (see LabelWorkflowInput).
    label_continue_after: int | None = Field(default=None, ge=1)


class LabelWorkflowInput(Message):
    label_id: UUID
    # Continue as new after this many handled alarms and messages, so history stays bounded over
    # the years a label lives (the server's own suggestion also triggers it).
    continue_after: int = Field(default=500, ge=1)


# ---- case updates and signals -------------------------------------------------------------


class ScreenApplication(HumanStep):
    accepted: bool = True
    reason: str = ""


class RespondToProposal(HumanStep):
    expert_id: UUID
    accept: bool
    reason: str = ""


class RecordAgreement(HumanStep):
    agreed: bool = True


class ScheduleAudit(HumanStep):
    audit_date: datetime


class SubmitAssessment(HumanStep):
    expert_id: UUID
    scores: dict[str, int]
    evidence: dict[str, str] = {}
    report: str


class RecordDecision(HumanStep):
    outcome: Outcome
    level: Level
    rationale: str
    decided_by: str = Field(min_length=1)


class LodgeAppeal(HumanStep):
    grounds: str


class DecideAppeal(HumanStep):
    upheld: bool
    rationale: str
    decided_by: str = Field(min_length=1)


class WithdrawCase(HumanStep):
    reason: str


class ExpertsChanged(Message):
    """Signal: experts were registered or re-certified; a case waiting for one tries again."""

    reason: str = ""


# ---- label updates and signals -------------------------------------------------------------


class SuspendLabel(HumanStep):
    reason: str


class RestoreLabel(HumanStep):
    pass


class WithdrawLabel(HumanStep):
    reason: str


class StartRenewal(HumanStep):
    improvement_areas: list[str] = []


class RenewalEnded(Message):
    """Signal from a renewal case to the label it renews: superseded by a new label, or abandoned."""

    case_id: UUID
    outcome: Literal["superseded", "abandoned"]
    new_label_id: UUID | None = None
