"""Silver as ESCA runs it: a second Bronze benchmarking plus an on-site validation.

A Silver case is benchmarked again on the Bronze catalogue's 36 indicators, 1.5 to 2 years after the
first (the gap: case_assessment.check_silver_gap). The cluster names three improvement areas, each on
ESCA's form: the area (a Gold indicator, its related criterion), the actions taken and their evidence.
On site, the expert validates each area against its related Gold criterion and checks every minimum
requirement of the Cluster Excellence Baseline (domain/baseline.py), pass or fail. Failing any single
requirement, or any area, means no Silver: the assessment supports Bronze only, and the cluster still
gets its report with the recommendations (DOMAIN.md, "The labels"; cluster-analysis.org silver-label).
The Silver evaluation asks for no Gold scores.

Silver cases applied for before this rule were assessed on the Gold catalogue (31 scores) and keep
that path: which one a case takes follows from the catalogue it started on (`validates_on_site`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from clusterlabel.domain.base import InvalidInput, Level, Problem
from clusterlabel.domain.baseline import Baseline
from clusterlabel.domain.catalogue import Catalogue
from clusterlabel.domain.text import Flag, Prose, Text

PART = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)  # part of a command (IndicatorScore)


class DescribedArea(BaseModel):
    """One improvement area on ESCA's form: the area (a Gold indicator code), what was done, and the evidence."""

    model_config = PART
    area: Text = Field(min_length=1, max_length=40, description="the Gold indicator code of the area")
    actions: Prose = Field(min_length=1, max_length=4_000, description="what the cluster did to improve it")
    evidence: Prose = Field(min_length=1, max_length=4_000, description="what shows it was done")


class AreaVerdict(BaseModel):
    """The expert's verdict on one improvement area against its related Gold criterion."""

    model_config = PART
    area: Text = Field(min_length=1, max_length=40)
    validated: Flag
    finding: Prose = Field(default="", max_length=4_000, description="needed when the area is not validated")


class RequirementVerdict(BaseModel):
    """The expert's check of one baseline minimum requirement."""

    model_config = PART
    code: Text = Field(min_length=1, max_length=40)
    met: Flag
    finding: Prose = Field(default="", max_length=4_000, description="needed when the requirement is not met")


class SilverValidation(BaseModel):
    """The on-site validation a Silver assessment carries beside its Bronze scores."""

    model_config = PART
    areas: list[AreaVerdict] = Field(default_factory=list, max_length=10)
    requirements: list[RequirementVerdict] = Field(default_factory=list, max_length=50)
    recommendations: Prose = Field(default="", max_length=8_000, description="what the report recommends")


class Validation(TypedDict):
    """What a case records of a validation (the SilverValidated event's `validation`)."""

    baseline_version: str
    criteria_version: str
    areas: dict[str, dict[str, Any]]
    requirements: dict[str, dict[str, Any]]
    recommendations: str
    holds: bool


class SilverRules(NamedTuple):
    """What a Silver case is validated against: the baseline and the Gold criteria current on its application
    day, and when the cluster's Bronze round was benchmarked (None for a renewal, which follows its own round)."""

    baseline: Baseline
    criteria: Catalogue
    bronze_benchmarked_at: datetime | None


def validates_on_site(level: Level, catalogue: Catalogue) -> bool:
    """Whether a case is Silver as ESCA runs it (a Bronze benchmarking plus a validation), not the
    earlier Silver on the Gold catalogue."""
    return level is Level.SILVER and catalogue.level == Level.BRONZE


def area_codes(areas: Sequence[str | DescribedArea]) -> list[str]:
    """The improvement areas' codes, whichever form named them."""
    return [item if isinstance(item, str) else item.area for item in areas]


def descriptions(areas: Sequence[str | DescribedArea]) -> list[dict[str, str]]:
    """The areas named on ESCA's form, by code, sorted; the old form (codes only) describes none."""
    described = {item.area: item.model_dump() for item in areas if isinstance(item, DescribedArea)}
    return [described[code] for code in sorted(described)]


def check_descriptions(areas: Sequence[str | DescribedArea]) -> None:
    """An area is described once: two forms for one area would leave the report to choose."""
    codes = [item.area for item in areas if isinstance(item, DescribedArea)]
    twice = sorted({code for code in codes if codes.count(code) > 1})
    if twice:
        message = f"improvement areas described more than once: {', '.join(twice)}"
        raise InvalidInput(message, [Problem(message, ("improvement_areas",))])


def checked_validation(
    validation: SilverValidation | None, improvement_areas: Sequence[str], baseline: Baseline, criteria: Catalogue
) -> Validation:
    """Refuse a validation that misses a verdict, names an unknown area or requirement, or fails one without
    a finding (every problem at once, at its place); else what the case records, with whether Silver holds."""
    if validation is None:
        message = "a Silver assessment carries the validation of its improvement areas and of the baseline"
        raise InvalidInput(message, [Problem(message, ("validation",))])
    problems = _verdict_problems("areas", "area", [v.area for v in validation.areas], improvement_areas)
    problems += _verdict_problems("requirements", "code", [v.code for v in validation.requirements], baseline.codes())
    verdicts: list[AreaVerdict | RequirementVerdict] = [*validation.areas, *validation.requirements]
    problems += _silent_failures("areas", validation.areas) + _silent_failures("requirements", validation.requirements)
    if problems:
        raise InvalidInput("the validation is incomplete or invalid: " + "; ".join(map(str, problems)), problems)
    return Validation(
        baseline_version=baseline.version,
        criteria_version=criteria.version,
        areas={v.area: {"validated": v.validated, "finding": v.finding} for v in validation.areas},
        requirements={v.code: {"met": v.met, "finding": v.finding} for v in validation.requirements},
        recommendations=validation.recommendations,
        holds=all(map(_passed, verdicts)),
    )


def check_no_validation(validation: SilverValidation | None) -> None:
    """Only a Silver case validated on site carries a validation: elsewhere it would be ignored unseen."""
    if validation is not None:
        message = "only a Silver assessment on the Bronze indicators carries a validation"
        raise InvalidInput(message, [Problem(message, ("validation",))])


def _silent_failures(kind: str, verdicts: Sequence[AreaVerdict | RequirementVerdict]) -> list[Problem]:
    """A failed verdict without a finding would leave the report unable to say why Silver was refused."""
    return [
        Problem("a failed verdict says what was found", ("validation", kind, index, "finding"))
        for index, verdict in enumerate(verdicts)
        if not _passed(verdict) and not verdict.finding
    ]


def _passed(verdict: AreaVerdict | RequirementVerdict) -> bool:
    return verdict.validated if isinstance(verdict, AreaVerdict) else verdict.met


def _verdict_problems(kind: str, field: str, given: Sequence[str], expected: Sequence[str]) -> list[Problem]:
    what = "improvement area" if kind == "areas" else "baseline requirement"
    problems = [
        Problem(f"{code} is not one of the {what}s of this case", ("validation", kind, index, field))
        if code not in expected
        else Problem(f"{what} {code} has more than one verdict", ("validation", kind, index, field))
        for index, code in enumerate(given)
        if code not in expected or code in given[:index]
    ]
    problems += [
        Problem(f"{what} {code} has no verdict", ("validation", kind), "missing_verdict")
        for code in expected
        if code not in given
    ]
    return problems
