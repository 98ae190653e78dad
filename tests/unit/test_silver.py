"""Silver as ESCA runs it: a second Bronze benchmarking plus an on-site validation of the three improvement
areas against their Gold criteria and of every baseline requirement; failing any one means no Silver."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from clusterlabel.domain import catalogue_shelf
from clusterlabel.domain.base import InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState, Outcome
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import (
    CloseCase,
    IssueLabel,
    RecordAgreement,
    RecordAuditHeld,
    RecordDecision,
    ScheduleAudit,
    Screen,
    StartRenewal,
    SubmitAssessment,
    WithdrawCase,
)
from clusterlabel.domain.silver import SilverValidation
from tests.builders import described_areas, full_scores, indicators, send, silver_validation
from tests.lifecycle import DECIDER, SECRETARIAT, Clock, Lifecycle, event_count, memory_app

AREAS = sorted(load_catalogue("gold-2020").codes()[:3])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def life(clock: Clock) -> Lifecycle:
    """A cluster whose Bronze round was 19 months ago: the time for its Silver application."""
    life = Lifecycle(memory_app(clock=clock))
    life.labelled(Level.BRONZE)
    clock.advance(days=580)
    return life


def assessment(life: Lifecycle, case_id: UUID, validation: SilverValidation | None) -> SubmitAssessment:
    """Bronze scores on every indicator of the case's catalogue, with the validation given."""
    case = life.app.get_case(case_id)
    scores = full_scores(load_catalogue(case.catalogue_version), 0.6)
    return SubmitAssessment(
        expert_id=case.expert_ids[0], indicators=indicators(scores), report="report", validation=validation
    )


def assess(life: Lifecycle, case_id: UUID, validation: SilverValidation | None) -> None:
    expert = life.app.get_case(case_id).expert_ids[0]
    send(life.app, case_id, assessment(life, case_id, validation), actor=f"expert:{expert}")


def test_a_silver_application_on_esca_form_records_each_area_with_its_actions_and_evidence(life: Lifecycle) -> None:
    case = life.app.get_case(life.apply(Level.SILVER, improvement_areas=described_areas(AREAS)))  # type: ignore[arg-type]
    assert case.catalogue_version == "bronze-2020"  # a second Bronze benchmarking
    assert case.improvement_areas == AREAS
    assert [item["area"] for item in case.improvement_descriptions] == AREAS
    assert case.improvement_descriptions[0]["actions"].startswith("Worked on")
    assert case.improvement_descriptions[0]["evidence"].startswith("Minutes on")


def test_a_silver_application_naming_codes_only_is_still_accepted(life: Lifecycle) -> None:
    case = life.app.get_case(life.apply(Level.SILVER, improvement_areas=AREAS))
    assert case.improvement_areas == AREAS and case.improvement_descriptions == []


def test_improvement_areas_name_gold_criteria_not_bronze_indicators(life: Lifecycle) -> None:
    bronze_codes = list(load_catalogue("bronze-2020").codes()[:3])
    with pytest.raises(InvalidInput, match="not an indicator of catalogue gold-2020"):
        life.apply(Level.SILVER, improvement_areas=bronze_codes)


def test_an_area_described_twice_is_refused(life: Lifecycle) -> None:
    twice = described_areas([AREAS[0], AREAS[0], AREAS[1], AREAS[2]])
    with pytest.raises(InvalidInput, match="described more than once"):
        life.apply(Level.SILVER, improvement_areas=twice)  # type: ignore[arg-type]


def test_bronze_scores_and_a_passed_validation_support_silver_and_the_decision_awards_it(life: Lifecycle) -> None:
    case_id = life.auditing(Level.SILVER, improvement_areas=described_areas(AREAS))
    assess(life, case_id, silver_validation(AREAS))
    case = life.app.get_case(case_id)
    assert case.state is CaseState.DECIDING and case.recommended_level is Level.SILVER
    assert len(case.scores) == 36  # the Bronze indicators, no Gold scores
    assert case.silver_validation is not None and case.silver_validation["holds"]
    assert case.silver_validation["baseline_version"] == "baseline-2020"
    assert case.silver_validation["criteria_version"] == "gold-2020"
    life.decide(case_id, Outcome.AWARD, Level.SILVER)
    assert life.app.get_case(case_id).decision["level"] is Level.SILVER  # type: ignore[index]


@pytest.mark.parametrize(
    "failing", [{"unmet": ["BL-04"]}, {"rejected": [AREAS[1]]}], ids=["a requirement", "an improvement area"]
)
def test_failing_any_single_one_means_no_silver_but_the_bronze_report(
    life: Lifecycle, failing: dict[str, list[str]]
) -> None:
    case_id = life.auditing(Level.SILVER, improvement_areas=AREAS)
    assess(life, case_id, silver_validation(AREAS, **failing))
    case = life.app.get_case(case_id)
    assert case.recommended_level is Level.BRONZE
    assert case.silver_validation is not None and not case.silver_validation["holds"]
    silver = RecordDecision(outcome=Outcome.AWARD, level=Level.SILVER, rationale="validated")
    with pytest.raises(InvalidInput, match="supports bronze, not silver"):
        send(life.app, case_id, silver, actor=DECIDER)
    life.decide(case_id, Outcome.AWARD, Level.BRONZE)
    assert life.app.get_case(case_id).decision["level"] is Level.BRONZE  # type: ignore[index]
    # The second Bronze benchmarking's label takes the place of the Bronze label the cluster held.
    held = life.app.get_cluster(life.cluster_id).current_labels[Level.BRONZE]
    label_id = send(life.app, case_id, IssueLabel(), actor="system").label_id
    assert label_id is not None and life.app.get_label(held).superseded_by == label_id
    assert life.app.get_cluster(life.cluster_id).current_labels[Level.BRONZE] == label_id


def test_missing_verdicts_are_refused_each_named_and_nothing_is_recorded(life: Lifecycle) -> None:
    case_id = life.auditing(Level.SILVER, improvement_areas=AREAS)
    partial = silver_validation(AREAS)
    partial = partial.model_copy(update={"areas": partial.areas[:2], "requirements": partial.requirements[1:]})
    before = event_count(life.app)
    with pytest.raises(InvalidInput) as refused:
        assess(life, case_id, partial)
    messages = [problem.msg for problem in refused.value.problems]
    assert f"improvement area {AREAS[2]} has no verdict" in messages
    assert "baseline requirement BL-01 has no verdict" in messages
    assert event_count(life.app) == before and life.app.get_case(case_id).state is CaseState.AUDITING


def test_unknown_requirement_codes_and_failures_without_a_finding_are_refused(life: Lifecycle) -> None:
    case_id = life.auditing(Level.SILVER, improvement_areas=AREAS)
    validation = silver_validation(AREAS)
    unknown = validation.requirements[0].model_copy(update={"code": "BL-99"})
    silent = validation.requirements[1].model_copy(update={"met": False})
    bad = validation.model_copy(update={"requirements": [unknown, silent, *validation.requirements[2:]]})
    before = event_count(life.app)
    with pytest.raises(InvalidInput) as refused:
        assess(life, case_id, bad)
    located = {(problem.msg, problem.loc) for problem in refused.value.problems}
    assert (
        "BL-99 is not one of the baseline requirements of this case",
        ("validation", "requirements", 0, "code"),
    ) in located
    assert ("a failed verdict says what was found", ("validation", "requirements", 1, "finding")) in located
    assert event_count(life.app) == before


def test_a_silver_assessment_needs_its_validation_and_no_other_level_takes_one(life: Lifecycle, clock: Clock) -> None:
    case_id = life.auditing(Level.SILVER, improvement_areas=AREAS)
    with pytest.raises(InvalidInput, match="carries the validation"):
        assess(life, case_id, None)
    other = Lifecycle(memory_app(clock=clock))
    bronze_id = other.auditing(Level.BRONZE)
    with pytest.raises(InvalidInput, match="only a Silver assessment"):
        assess(other, bronze_id, silver_validation(AREAS))


def test_gold_scores_are_not_asked_of_a_silver_case(life: Lifecycle) -> None:
    case_id = life.auditing(Level.SILVER, improvement_areas=AREAS)
    expert = life.app.get_case(case_id).expert_ids[0]
    gold = SubmitAssessment(
        expert_id=expert,
        indicators=indicators(full_scores("gold-2020")),
        report="report",
        validation=silver_validation(AREAS),
    )
    with pytest.raises(InvalidInput, match="is not an indicator of catalogue bronze-2020"):
        send(life.app, case_id, gold, actor=f"expert:{expert}")


@pytest.mark.parametrize("step", ["screened", "apply"])
def test_a_validation_out_of_turn_is_refused_and_nothing_is_recorded(life: Lifecycle, step: str) -> None:
    case_id = getattr(life, step)(Level.SILVER, improvement_areas=AREAS)
    life.expert()
    before = event_count(life.app)
    command = SubmitAssessment(
        expert_id=life.experts[-1],
        indicators=indicators(full_scores("bronze-2020")),
        report="report",
        validation=silver_validation(AREAS),
    )
    with pytest.raises(StepNotAllowed):
        send(life.app, case_id, command, actor=f"expert:{life.experts[-1]}")
    assert event_count(life.app) == before


def test_a_silver_case_started_on_the_gold_catalogue_keeps_the_old_rule(
    life: Lifecycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cases applied for before Silver was validated on site were assessed on the Gold catalogue (31 scores)."""
    with monkeypatch.context() as before_the_change:
        before_the_change.setitem(catalogue_shelf.CATALOGUE_LEVEL_FOR, "silver", "gold")
        case_id = life.auditing(Level.SILVER, improvement_areas=AREAS)
    assert life.app.get_case(case_id).catalogue_version == "gold-2020"
    with pytest.raises(InvalidInput, match="only a Silver assessment on the Bronze indicators"):
        assess(life, case_id, silver_validation(AREAS))
    life.assess(case_id, fraction=0.5)  # the Gold scores alone: every threshold met, under 80% overall
    case = life.app.get_case(case_id)
    assert case.recommended_level is Level.SILVER and case.silver_validation is None and len(case.scores) == 31


def test_the_gap_after_the_bronze_round_is_measured_at_the_interview(life: Lifecycle, clock: Clock) -> None:
    late = life.auditing(Level.SILVER, improvement_areas=AREAS)  # 19 months after the Bronze round
    clock.advance(days=180)  # the interview would come 25 months after it
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match="a Silver interview must come P18M to P24M after the Bronze"):
        assess(life, late, silver_validation(AREAS))
    assert event_count(life.app) == before


def test_an_interview_held_inside_the_gap_counts_even_if_the_report_comes_later(life: Lifecycle, clock: Clock) -> None:
    case_id = life.auditing(Level.SILVER, improvement_areas=AREAS)
    send(life.app, case_id, ScheduleAudit(audit_date=clock.now + timedelta(days=30), place="Graz"), actor=SECRETARIAT)
    clock.advance(days=31)
    send(life.app, case_id, RecordAuditHeld(), actor=SECRETARIAT)
    clock.advance(days=150)  # the report after the 24 months: the interview was inside them
    assess(life, case_id, silver_validation(AREAS))
    assert life.app.get_case(case_id).recommended_level is Level.SILVER


def test_an_interview_scheduled_past_the_gap_is_refused_when_it_is_set(life: Lifecycle, clock: Clock) -> None:
    clock.advance(days=120)  # applying 23 months after the Bronze round
    case_id = life.auditing(Level.SILVER, improvement_areas=AREAS)
    too_late = ScheduleAudit(audit_date=clock.now + timedelta(days=40), place="Graz")  # before the audit deadline
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match="a Silver interview must come P18M to P24M"):
        send(life.app, case_id, too_late, actor=SECRETARIAT)
    assert event_count(life.app) == before


def test_a_bronze_renewal_awarded_after_a_silver_round_awarded_bronze_supersedes_that_rounds_label(
    life: Lifecycle,
) -> None:
    first = life.app.get_cluster(life.cluster_id).current_labels[Level.BRONZE]
    renewal = send(life.app, first, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    assert renewal is not None
    silver = life.auditing(Level.SILVER, improvement_areas=AREAS)
    assess(life, silver, silver_validation(AREAS, unmet=["BL-01"]))
    life.decide(silver, Outcome.AWARD, Level.BRONZE)
    second = send(life.app, silver, IssueLabel(), actor="system").label_id  # supersedes the first label

    send(life.app, renewal, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
    life.staff(renewal)
    send(life.app, renewal, RecordAgreement(agreed=True), actor=SECRETARIAT)
    life.assess(renewal)
    life.decide(renewal, Outcome.AWARD, Level.BRONZE)
    third = send(life.app, renewal, IssueLabel(), actor="system").label_id

    assert third is not None and life.app.get_label(second).superseded_by == third  # type: ignore[arg-type]
    assert life.app.get_cluster(life.cluster_id).current_labels == {Level.BRONZE: third}


def test_a_silver_round_awarded_bronze_is_the_bronze_benchmarking_the_next_silver_gap_counts_from(
    life: Lifecycle, clock: Clock
) -> None:
    """The round benchmarked the Bronze indicators and its Bronze label replaced the first one: a new Silver
    application waits 18 months after it, not after the first round (which had let one in a month later, then
    refused every one once 24 months had passed since the first round, whatever the cluster did)."""
    failed = life.auditing(Level.SILVER, improvement_areas=AREAS)
    assess(life, failed, silver_validation(AREAS, unmet=["BL-01"]))
    life.decide(failed, Outcome.AWARD, Level.BRONZE)
    send(life.app, failed, IssueLabel(), actor="system")
    benchmarked = life.app.get_case(failed).audit_month_of
    clock.advance(days=31)
    send(life.app, failed, CloseCase(), actor="system")

    with pytest.raises(InvalidInput, match=f"after the Bronze benchmarking of {benchmarked:%Y-%m-%d}"):
        life.apply(Level.SILVER, improvement_areas=AREAS)
    clock.now = benchmarked + timedelta(days=19 * 30)  # 19 months after it, past 24 after the first round
    assert life.app.get_case(life.apply(Level.SILVER, improvement_areas=AREAS)).level is Level.SILVER


@pytest.mark.parametrize("ended", ["refused", "withdrawn"])
def test_a_silver_round_refused_or_withdrawn_leaves_the_gap_counting_from_the_bronze_round(
    life: Lifecycle, clock: Clock, ended: str
) -> None:
    unsuccessful = life.auditing(Level.SILVER, improvement_areas=AREAS)
    assess(life, unsuccessful, silver_validation(AREAS, unmet=["BL-01"]))
    if ended == "refused":
        life.decide(unsuccessful, Outcome.REFUSE)
        clock.advance(days=31)  # past the refusal's appeal window
    else:
        send(life.app, unsuccessful, WithdrawCase(reason="the cluster asked for time"), actor=SECRETARIAT)
    send(life.app, unsuccessful, CloseCase(), actor="system")

    assert life.app.get_case(life.apply(Level.SILVER, improvement_areas=AREAS)).level is Level.SILVER
