"""The rules of a case's assessment, from the application to the award: what a Silver application
names and when it may come, what makes a submitted assessment complete, the level its scores
support, and the level a decision may award.

Silver has no catalogue of its own. As ESCA runs it, a Silver case is a second Bronze benchmarking plus
an on-site validation of its three improvement areas and of the baseline requirements (domain/silver.py).
Silver cases applied for before that were assessed on the Gold catalogue, and held when none of the
three improvement areas fell below its Gold threshold; they keep that rule (`supported_level`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TypedDict
from uuid import UUID

from clusterlabel.domain import silver
from clusterlabel.domain.base import InvalidInput, Level, Problem
from clusterlabel.domain.case_lifecycle import BENCHMARK_OUTCOME, CaseKind, Outcome
from clusterlabel.domain.catalogue import AreaSummary, Catalogue, IndicatorScore
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.label_lifecycle import within_renewal_window
from clusterlabel.domain.policy import Policy

IMPROVEMENT_AREAS_FOR_SILVER = 3


class Application(TypedDict):
    """What a case records of its application (the Submitted event's fields the rules work out)."""

    cluster_id: UUID
    cluster_country: str
    level: str
    kind: str
    catalogue_version: str
    previous_expert_ids: list[UUID]
    improvement_areas: list[str]
    submitted_at: datetime
    screening_due: datetime


def check_application(
    cluster: Cluster,
    level: Level,
    kind: CaseKind,
    catalogue: Catalogue,
    policy: Policy,
    at: datetime,
    areas: list[str],
    criteria: Catalogue | None = None,
    renewed_case_id: UUID | None = None,
    renew_by: datetime | None = None,
) -> Application:
    """Refuse an application that a rule about who may apply for what forbids; else what the case records of it.
    Benchmarking is open to any cluster: only a label asks for the eligibility criteria (ECCP profile rules).
    A Silver case on the Bronze catalogue names its improvement areas by the codes of `criteria`, the Gold
    catalogue current on the day: the areas are validated against those Gold criteria."""
    if kind is not CaseKind.BENCHMARKING:
        cluster.check_eligible(policy)
    if silver.validates_on_site(level, catalogue):
        if criteria is None:
            raise ValueError("a Silver application on the Bronze catalogue needs the Gold criteria of its areas")
        catalogue_of_areas = criteria
    else:
        catalogue_of_areas = catalogue
    distinct_areas = check_improvement_areas(level, catalogue_of_areas, areas)
    if level is Level.SILVER and kind is not CaseKind.RENEWAL:  # a Silver renewal follows its own round
        check_silver_gap(cluster.name, cluster.last_bronze_benchmarking(), policy, at)
    return Application(
        cluster_id=cluster.id,
        cluster_country=cluster.country,
        level=level.value,
        kind=kind.value,
        catalogue_version=catalogue.version,
        previous_expert_ids=cluster.experts_to_rotate(renewed_case_id),
        improvement_areas=distinct_areas,
        submitted_at=at,
        screening_due=within_renewal_window(policy.screening_deadline.after(at), renew_by),
    )


def check_improvement_areas(level: Level, catalogue: Catalogue, areas: Sequence[str]) -> list[str]:
    """The distinct areas, sorted: Silver names three, by indicator codes of its catalogue; no other level names any."""
    if level is not Level.SILVER:
        if areas:
            message = "improvement areas are named only for a Silver application"
            raise InvalidInput(message, [Problem(message, ("improvement_areas",))])
        return []
    distinct = sorted(set(areas))
    messages = [
        f"{code} is not an indicator of catalogue {catalogue.version}"
        for code in distinct
        if code not in catalogue.codes()
    ]
    if len(distinct) != IMPROVEMENT_AREAS_FOR_SILVER:
        messages.append(
            f"a Silver application names exactly {IMPROVEMENT_AREAS_FOR_SILVER} distinct improvement areas, not {len(distinct)}"
        )
    if messages:
        problems = [Problem(message, ("improvement_areas",)) for message in messages]
        raise InvalidInput("invalid improvement areas: " + "; ".join(messages), problems)
    return distinct


def check_silver_gap(
    cluster_name: str, bronze_benchmarked_at: datetime | None, policy: Policy, at: datetime, what: str = "application"
) -> None:
    """A first Silver application follows the cluster's last Bronze benchmarking (its audit, not the report
    written after it) by 18 to 24 months (policy), and so does its interview (`what`), the second
    benchmarking's: the gap is measured between the two (ESCA's Silver page)."""
    if bronze_benchmarked_at is None:
        raise InvalidInput(f"cluster {cluster_name!r} has no Bronze benchmarking to build a Silver application on")
    earliest = policy.silver_min_gap.after(bronze_benchmarked_at)
    latest = policy.silver_max_gap.after(bronze_benchmarked_at)
    if _gap_in_days(policy):
        # "1.5 to 2 years after the first" (DOMAIN.md) counts in calendar days (UTC), both ends included: any
        # hour of the earliest or the latest day is inside, as the days the refusal names say.
        inside, shown = _utc_day(earliest) <= _utc_day(at) <= _utc_day(latest), "%Y-%m-%d"
    else:
        inside, shown = earliest <= at <= latest, "%Y-%m-%d %H:%M:%S UTC"
    if not inside:
        raise InvalidInput(
            f"a Silver {what} must come {policy.silver_min_gap} to {policy.silver_max_gap} after the Bronze "
            f"benchmarking of {bronze_benchmarked_at:{shown}}: between {earliest:{shown}} and {latest:{shown}}"
        )


def _gap_in_days(policy: Policy) -> bool:
    """A gap of whole days or longer counts by the day; one given to the hour or second (a lifecycle
    compressed for a demo or a test) counts to the instant, or a one-hour gap would last the whole day."""
    return not policy.silver_min_gap.seconds and not policy.silver_max_gap.seconds


def _utc_day(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


def check_assessment(
    catalogue: Catalogue,
    case_catalogue: str,
    indicators: Sequence[IndicatorScore],
    report: str,
    summaries: Sequence[AreaSummary] = (),
) -> None:
    """Refuse an assessment on another catalogue than the case's, or one that misses it or has no report.

    Every problem is named at once, each at its place in the submission, so that one correction fixes all."""
    if catalogue.version != case_catalogue:
        raise InvalidInput(f"the case is assessed on catalogue {case_catalogue}, not {catalogue.version}")
    problems = catalogue.assessment_problems(indicators) + catalogue.summary_problems(summaries)
    if not report.strip():
        problems.append(Problem("the report is empty", ("report",)))
    if problems:
        raise InvalidInput("the assessment is incomplete or invalid: " + "; ".join(map(str, problems)), problems)


class Assessment(TypedDict):
    """What a case records of its team's assessment (the AssessmentSubmitted event's fields the rules work out)."""

    catalogue_version: str
    scores: dict[str, int]
    evidence: dict[str, str]
    recommended_level: str


class Findings(TypedDict):
    """What the expert wrote beside the scores (the AssessmentSubmitted event's `findings`): per
    indicator its finding and recommendation, per area a summary, and on the cluster as a whole."""

    indicators: dict[str, dict[str, str]]
    areas: dict[str, str]
    strengths: str
    areas_for_improvement: str
    success_stories: str


NO_FINDINGS = Findings(indicators={}, areas={}, strengths="", areas_for_improvement="", success_stories="")


def written_findings(
    indicators: Sequence[IndicatorScore],
    summaries: Sequence[AreaSummary],
    strengths: str = "",
    areas_for_improvement: str = "",
    success_stories: str = "",
) -> Findings:
    """The findings of a submitted assessment, keeping only what was written."""
    return Findings(
        indicators={
            item.code: {"finding": item.finding, "recommendation": item.recommendation}
            for item in indicators
            if item.finding or item.recommendation
        },
        areas={item.code: item.summary for item in summaries},
        strengths=strengths,
        areas_for_improvement=areas_for_improvement,
        success_stories=success_stories,
    )


def scored_assessment(
    applied: Level,
    improvement_areas: Collection[str],
    indicators: Sequence[IndicatorScore],
    catalogue: Catalogue,
    policy: Policy,
    validated: bool = False,
) -> Assessment:
    """What the case records of an assessment that check_assessment let through: its scores, their
    evidence, and the highest level they support (`validated`: a Silver validation held)."""
    scores = {item.code: item.score for item in indicators}
    supported = supported_level(applied, improvement_areas, scores, catalogue, policy.gold_min_percentage, validated)
    return Assessment(
        catalogue_version=catalogue.version,
        scores=scores,
        evidence={item.code: item.evidence for item in indicators if item.evidence},
        recommended_level=supported.value,
    )


def supported_level(
    applied: Level,
    improvement_areas: Collection[str],
    scores: Mapping[str, int],
    catalogue: Catalogue,
    gold_min_percentage: float,
    validated: bool = False,
) -> Level:
    """The highest level the scores support: Gold needs the percentage and every threshold; Silver
    (when applied for) on the Bronze catalogue its on-site validation (`validated`: every area and every
    baseline requirement passed), on the Gold catalogue (cases applied for before) every threshold of its
    improvement areas; anything less is Bronze."""
    if catalogue.level != Level.GOLD:
        return Level.SILVER if applied is Level.SILVER and validated else Level.BRONZE
    if catalogue.meets_gold(scores, gold_min_percentage):
        return Level.GOLD
    failing = set(catalogue.below_threshold(scores))
    if applied is Level.SILVER and not failing.intersection(improvement_areas):
        return Level.SILVER
    return Level.BRONZE


def check_awardable(level: Level, applied: Level, supported: Level) -> None:
    """An award may grant less than the application asked for, never more, nor more than the assessment supports."""
    if level.rank > applied.rank:
        raise InvalidInput(f"the case applied for {applied}; it cannot award {level}")
    if level.rank > supported.rank:
        raise InvalidInput(f"the assessment supports {supported}, not {level}")


def recorded_outcome(outcome: Outcome, kind: CaseKind, unmet_criteria: Sequence[str]) -> str:
    """What a decision records: an award on a benchmarking-only case, or for a cluster that no longer
    meets every eligibility criterion (checked again at the decision), gives the report and no label."""
    if outcome is Outcome.AWARD and (kind is CaseKind.BENCHMARKING or unmet_criteria):
        return BENCHMARK_OUTCOME
    return outcome.value


def decided_level(
    outcome: Outcome, named: Level | None, applied: Level, supported: Level | None, recorded: str = ""
) -> Level:
    """The level a decision records: the one it names, else the one applied for; an award of it must be
    one the application and the assessment allow (check_awardable). A benchmarking grants no level, so
    records the one it names or the assessment supports, unchecked."""
    level = named or applied
    if outcome is Outcome.AWARD and recorded != BENCHMARK_OUTCOME:
        assert supported is not None  # a case in `deciding` has been assessed
        check_awardable(level, applied, supported)
    return level
