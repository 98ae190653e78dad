"""The messages the certification workflows accept: workflow inputs, human steps and signals.

A human step is an update whose argument is a `Step`: the command (domain/commands.py) and its
envelope. One model per message, so that fields can be added compatibly; unknown fields are ignored,
since these payloads stay in histories for years.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.commands import Command, Envelope

C = TypeVar("C", bound=Command)


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Step(Message, Generic[C]):
    """A human step: the command, and who sends it under which idempotency key (the update id too)."""

    command: C
    envelope: Envelope

    @model_validator(mode="before")
    @classmethod
    def _from_flat_step(cls, data: Any) -> Any:
        """Histories recorded before commands were data hold the command's fields beside `actor` and
        an optional `idempotency_key`. Only replay reads them, and replay runs no activity, so the
        key stands in for what the workflow derived then."""
        if isinstance(data, dict) and "command" not in data and "actor" in data:
            envelope = {"actor": data["actor"], "key": data.get("idempotency_key") or "recorded-before-commands"}
            return {"command": data, "envelope": envelope}
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


# ---- signals -------------------------------------------------------------------------------


class ExpertsChanged(Message):
    """Signal: experts were registered or re-certified; a case waiting for one tries again."""

    reason: str = ""


class RenewalEnded(Message):
    """Signal from a renewal case to the label it renews: superseded by a new label, or abandoned."""

    case_id: UUID
    outcome: Literal["superseded", "abandoned"]
    new_label_id: UUID | None = None
