"""The bodies of the API's command routes: each is its command (domain/commands.py) with unknown fields
refused, so that a client's typo is a 422 rather than a silently ignored answer. Every body of the API
(here, interfaces/web/*_schemas.py, experts.py) takes the one configuration STRICT."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from clusterlabel.domain import commands, record_commands
from clusterlabel.domain.catalogue import AreaSummary, IndicatorScore

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApplicationIn(commands.SubmitApplication):
    model_config = STRICT


class ReviewClosureIn(record_commands.CloseEligibilityReview):
    model_config = STRICT


class WaiverIn(record_commands.WaiveEligibilityCriterion):
    model_config = STRICT


class ScreeningIn(commands.Screen):
    model_config = STRICT


class AssignmentIn(commands.ProposalAnswer):
    model_config = STRICT


class AgreementIn(commands.RecordAgreement):
    model_config = STRICT


class AuditDateIn(commands.ScheduleAudit):
    model_config = STRICT


class AuditHeldIn(commands.AuditHolding):
    model_config = STRICT


class IndicatorScoreIn(IndicatorScore):
    model_config = STRICT


class AreaSummaryIn(AreaSummary):
    model_config = STRICT


class AssessmentIn(commands.Assessment):
    model_config = STRICT
    indicators: list[IndicatorScoreIn] = Field(min_length=1, max_length=200)  # type: ignore[assignment]
    area_summaries: list[AreaSummaryIn] = Field(default_factory=list, max_length=50)  # type: ignore[assignment]


class SignatureIn(commands.Signature):
    model_config = STRICT


class DecisionIn(commands.RecordDecision):
    model_config = STRICT


class WithdrawalIn(commands.WithdrawCase):
    model_config = STRICT


class AppealIn(commands.LodgeAppeal):
    model_config = STRICT


class AppealDecisionIn(commands.DecideAppeal):
    model_config = STRICT


class RenewalIn(commands.StartRenewal):
    model_config = STRICT


class SuspensionIn(commands.SuspendLabel):
    model_config = STRICT


class LabelWithdrawalIn(commands.WithdrawLabel):
    model_config = STRICT


class LabelAppealIn(commands.LodgeLabelAppeal):
    model_config = STRICT


class LabelAppealDecisionIn(commands.DecideLabelAppeal):
    model_config = STRICT
