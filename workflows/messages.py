"""The messages the certification workflows accept: workflow inputs, human steps and signals.

A human step is an update whose argument is a `Step`: the command (domain/commands.py) and its
envelope. One model per message, so that fields can be added compatibly; unknown fields are ignored,
since these payloads stay in histories for years.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clusterlabel.domain.command_base import Command, Envelope

C = TypeVar("C", bound=Command)
FLAT_KEY = "derived-by-the-workflow"  # replaced before use: see Step.flat
# The step name an update's key was derived with before commands were data, where it differs.
FLAT_STEP_NAMES = {"start_renewal": "renewal"}


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Step(Message, Generic[C]):
    """A human step: the command, and who sends it under which idempotency key (the update id too, but
    for an update the engine failed: interfaces/web/steps.py sends it again under a fresh id, same key)."""

    command: C
    envelope: Envelope
    # Sent in the format used before commands were data (recorded histories; an older API process
    # during a rolling deploy): the workflow derives its key as it did then (RecordWorkflow.envelope_of).
    flat: bool = False
    flat_occurrence: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_flat_step(cls, data: Any) -> Any:
        """The older format holds the command's fields beside `actor` and an optional `idempotency_key`."""
        if isinstance(data, dict) and "command" not in data and "actor" in data:
            envelope = {"actor": data["actor"], "key": FLAT_KEY}
            return {"command": data, "envelope": envelope, "flat": True, "flat_occurrence": data.get("idempotency_key")}
        return data


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


class ComplaintWorkflowInput(Message):
    complaint_id: UUID


class DeliveryWorkflowInput(Message):
    """One message of the outbox to send, and how hard to try (the policy's, when the run started)."""

    notification_id: UUID
    attempts: int = Field(default=10, ge=1)
    backoff: timedelta = Field(default=timedelta(minutes=1), gt=timedelta(0))


class WebhookDeliveryInput(Message):
    """One label change to post to one webhook, and how hard to try (the policy's, when the run started)."""

    delivery_id: UUID
    attempts: int = Field(default=8, ge=1)
    backoff: timedelta = Field(default=timedelta(seconds=30), gt=timedelta(0))


# ---- signals -------------------------------------------------------------------------------


class ExpertsChanged(Message):
    """Signal: experts were registered or re-certified; a case waiting for one tries again."""

    reason: str = ""


class RenewalEnded(Message):
    """Signal from a renewal case to the label it renews: superseded by a new label, or abandoned."""

    case_id: UUID
    outcome: Literal["superseded", "abandoned"]
    new_label_id: UUID | None = None
