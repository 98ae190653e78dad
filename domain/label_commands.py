"""The commands on labels, as data (domain/commands.py lists every command in COMMANDS)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from clusterlabel.domain.command_base import SHORT_TEXT, Appeal, AppealDecision, LabelCommand, LongProse, ShortProse
from clusterlabel.domain.silver import DescribedArea
from clusterlabel.domain.text import Prose, Text


class RemindExpiry(LabelCommand):
    offset: Text


class ExpireLabel(LabelCommand):
    """The label's validity has run out."""


class CloseRenewalWindow(LabelCommand):
    """The renewal window has closed without a renewal: the label lapses."""


class SuspendLabel(LabelCommand, domain_step="suspend"):
    reason: ShortProse


class RestoreLabel(LabelCommand, domain_step="restore"):
    rationale: Annotated[Prose, Field(max_length=SHORT_TEXT)] = Field(
        "", description="Why the suspension is lifted: kept in the label's history and told to the cluster"
    )


class WithdrawLabel(LabelCommand, domain_step="withdraw"):
    reason: ShortProse


class LodgeLabelAppeal(LabelCommand, Appeal):
    """Appeal the label's suspension or withdrawal (domain/label_appeal.py)."""


class DecideLabelAppeal(AppealDecision, LabelCommand):
    """Uphold the appeal (the suspension or withdrawal is reversed) or dismiss it; the envelope's actor decides."""

    rationale: LongProse


class StartRenewal(LabelCommand, domain_step="start_renewal"):
    improvement_areas: list[Text | DescribedArea] = Field(
        default_factory=list, max_length=10, description="Silver only: as SubmitApplication's"
    )
