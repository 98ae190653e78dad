"""The commands of a complaint (domain/complaint.py), as data: the public's lodging, the secretariat's
steps, and the complaint workflow's reminders and escalation. Registered in commands.COMMANDS on import."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from clusterlabel.domain.command_base import Command, LongProse, ShortProse
from clusterlabel.domain.complaint import ComplaintOutcome
from clusterlabel.domain.text import Text


class ComplaintCommand(Command, subject="complaint"):
    pass


# What `about` looks like (the registry is asked what it names): a label's printed code (the engine's,
# ECEI-B-…, in any case, or an imported label's own, label_import.PRINTED_CODE), or a cluster id.
ABOUT_PATTERN = "^ *[A-Za-z0-9][A-Za-z0-9._-]{0,59} *$"


class ComplaintStatement(ComplaintCommand):
    """What the complainant says: about which label (its code) or cluster (its id), and what."""

    about: Text = Field(
        min_length=1,
        max_length=100,
        description="a label's printed code (ECEI-B-…, or an imported label's) or a cluster id",
        json_schema_extra={"pattern": ABOUT_PATTERN},
    )
    text: LongProse


class LodgeComplaint(ComplaintStatement):
    """A new complaint; the server fills in the cluster and label that `about` names in the public registry."""

    cluster_id: UUID
    label_id: UUID | None = None


class AcknowledgeComplaint(ComplaintCommand, domain_step="acknowledge"):
    pass


class StartInvestigation(ComplaintCommand, domain_step="start_investigation"):
    pass


class CloseComplaint(ComplaintCommand, domain_step="close"):
    """The outcome, and the finding the complainant is told."""

    outcome: ComplaintOutcome
    finding: LongProse


class RemindComplaint(ComplaintCommand):
    """Tell the secretariat that a complaint's acknowledgement or investigation is due soon."""

    step: Text
    offset: Text
    due: datetime


class EscalateComplaint(ComplaintCommand):
    reason: ShortProse


# Listed in domain/commands.COMMANDS, in this order.
COMMANDS: tuple[type[Command], ...] = (
    LodgeComplaint,
    AcknowledgeComplaint,
    StartInvestigation,
    CloseComplaint,
    RemindComplaint,
    EscalateComplaint,
)
