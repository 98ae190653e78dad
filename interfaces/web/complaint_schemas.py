"""The complaints' HTTP bodies: the public's complaint in, and what the secretariat reads out."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import EmailStr, Field

from clusterlabel.domain import complaint_commands as commands
from clusterlabel.domain.complaint import ComplaintOutcome
from clusterlabel.interfaces.web.account_schemas import EMAIL_SCHEMA
from clusterlabel.interfaces.web.bodies import STRICT
from clusterlabel.interfaces.web.schemas import HistoryEvent, Out
from clusterlabel.projections.complaints import ListedComplaint


class ComplaintIn(commands.ComplaintStatement):
    """Anyone's complaint about a label (its code, ECEI-B-…) or a cluster (its id, as the registry shows)."""

    model_config = STRICT
    contact_email: EmailStr = Field(
        max_length=320,
        description="where the outcome is sent; kept beside the log, never shown in it",
        json_schema_extra=EMAIL_SCHEMA,
    )


class ComplaintClosureIn(commands.CloseComplaint):
    model_config = STRICT


class ComplaintCreated(Out):
    complaint_id: UUID


class ComplaintOut(ListedComplaint, Out):
    due: datetime | None = Field(description="the deadline of the current step; None once closed")
    overdue: bool
    outcome: ComplaintOutcome | None
    escalations: int = Field(description="how often a deadline passed and the secretariat was told")


class ComplaintDetailOut(ComplaintOut):
    text: str
    deadlines: dict[str, datetime]
    finding: str
    events: list[HistoryEvent]
