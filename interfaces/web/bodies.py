"""The bodies of the API's command routes: each is its command (domain/commands.py) with unknown fields
refused, so that a client's typo is a 422 rather than a silently ignored answer. Every body of the API
(here and in interfaces/web/*_schemas.py) takes the one configuration STRICT."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from clusterlabel.domain import commands, record_commands, silver
from clusterlabel.domain.catalogue import AreaSummary, IndicatorScore
from clusterlabel.domain.command_base import ShortProse
from clusterlabel.domain.text import Prose, Text

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DescribedAreaIn(silver.DescribedArea):
    model_config = STRICT


class ApplicationIn(commands.SubmitApplication):
    model_config = STRICT
    improvement_areas: list[Text | DescribedAreaIn] = Field(  # type: ignore[assignment]
        default_factory=list,
        max_length=10,
        description="Silver only: three Gold indicator codes, each alone or on ESCA's form {area, actions, evidence}",
    )


class ApplicationFormIn(ApplicationIn):
    """The application page's form: besides the codes alone (`improvement_areas`), Silver's areas each in a row
    of its own on ESCA's form (`area_<n>`, `actions_<n>`, `evidence_<n>`): a row with actions or evidence is
    described, one with a code alone is named by it."""

    area_1: Text = ""
    actions_1: Prose = ""
    evidence_1: Prose = ""
    area_2: Text = ""
    actions_2: Prose = ""
    evidence_2: Prose = ""
    area_3: Text = ""
    actions_3: Prose = ""
    evidence_3: Prose = ""

    @model_validator(mode="before")
    @classmethod
    def _rows(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        rows: list[Any] = []
        for n in (1, 2, 3):
            area, actions, evidence = (str(data.pop(f"{part}_{n}", "")).strip() for part in FORM_ROW)
            if actions or evidence:
                rows.append({"area": area, "actions": actions, "evidence": evidence})
            elif area:
                rows.append(area)
        return {**data, "improvement_areas": [*data.get("improvement_areas", []), *rows]} if rows else data


FORM_ROW = ("area", "actions", "evidence")


class ReviewClosureIn(record_commands.CloseEligibilityReview):
    model_config = STRICT


class WaiverIn(record_commands.WaiveEligibilityCriterion):
    model_config = STRICT


class CertificationRenewalIn(record_commands.RenewExpertCertification):
    model_config = STRICT


class QualificationIn(record_commands.RecordQualification):
    model_config = STRICT


class AffiliationIn(record_commands.DeclareAffiliation):
    model_config = STRICT


class RevocationIn(record_commands.RevokeExpertCertification):
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


class AreaVerdictIn(silver.AreaVerdict):
    model_config = STRICT


class RequirementVerdictIn(silver.RequirementVerdict):
    model_config = STRICT


class SilverValidationIn(silver.SilverValidation):
    model_config = STRICT
    areas: list[AreaVerdictIn] = Field(default_factory=list, max_length=10)  # type: ignore[assignment]
    requirements: list[RequirementVerdictIn] = Field(default_factory=list, max_length=50)  # type: ignore[assignment]


class AssessmentIn(commands.Assessment):
    model_config = STRICT
    indicators: list[IndicatorScoreIn] = Field(min_length=1, max_length=200)  # type: ignore[assignment]
    area_summaries: list[AreaSummaryIn] = Field(default_factory=list, max_length=50)  # type: ignore[assignment]
    validation: SilverValidationIn | None = Field(
        default=None,
        description="Silver only: a verdict on each improvement area (against its Gold criterion) and on each "
        "baseline requirement (GET /baseline); a failed one says what was found",
    )


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


class RestorationIn(commands.RestoreLabel):
    model_config = STRICT


class RestorationFormIn(RestorationIn):
    """The page's restoration asks why (DOMAIN.md: every decision is recorded with its rationale); the API
    still takes one with no body, as it did before a restoration had a rationale."""

    rationale: ShortProse


class LabelWithdrawalIn(commands.WithdrawLabel):
    model_config = STRICT


class LabelAppealIn(commands.LodgeLabelAppeal):
    model_config = STRICT


class LabelAppealDecisionIn(commands.DecideLabelAppeal):
    model_config = STRICT
