"""The certification case: each step given the earlier ones, and every step refused out of turn."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.base import DomainError, ImpartialityViolation, InvalidInput, Level, NotFound, StepNotAllowed
from domain.catalogue import load_catalogue
from domain.certification_case import CaseState, Outcome
from tests.builders import full_scores, key
from tests.lifecycle import DECIDER, SECRETARIAT, Clock, Lifecycle, event_count, memory_app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def life(clock: Clock) -> Lifecycle:
    return Lifecycle(memory_app(clock=clock))


def test_a_bronze_case_goes_from_application_to_award(life: Lifecycle) -> None:
    app = life.app
    case_id = life.apply()
    assert app.get_case(case_id).state is CaseState.SCREENING
    app.screen(case_id, True, "complete", actor=SECRETARIAT, command_key=key())
    assert app.get_case(case_id).state is CaseState.ASSIGNING
    life.staff(case_id)
    app.record_agreement(case_id, True, actor=SECRETARIAT, command_key=key())
    assert app.get_case(case_id).state is CaseState.AUDITING
    life.assess(case_id)
    case = app.get_case(case_id)
    assert case.state is CaseState.DECIDING and case.recommended_level is Level.BRONZE
    life.decide(case_id)
    assert app.get_case(case_id).state is CaseState.AWARDED


def test_screening_can_reject_with_a_reason_but_not_without(life: Lifecycle) -> None:
    case_id = life.apply()
    with pytest.raises(InvalidInput, match="needs a reason"):
        life.app.screen(case_id, False, "  ", actor=SECRETARIAT, command_key=key())
    life.app.screen(case_id, False, "documents missing", actor=SECRETARIAT, command_key=key())
    assert life.app.get_case(case_id).state is CaseState.REJECTED


def test_an_ineligible_cluster_hears_every_unmet_criterion_at_once(life: Lifecycle) -> None:
    from tests.builders import cluster_profile

    weak = life.app.register_cluster(
        cluster_profile(members=3, staff_fte=0.2, member_types=["business"], eccp_listed=False, english_website=False),
        actor=SECRETARIAT,
        command_key=key(),
    )
    before = event_count(life.app)
    with pytest.raises(InvalidInput) as refused:
        life.app.submit_application(weak, Level.BRONZE, actor=SECRETARIAT, command_key=key())
    assert len(refused.value.problems) == 5
    assert "3 committed members; at least 15" in refused.value.message and "0.5 FTE" in refused.value.message
    assert event_count(life.app) == before


def test_a_cluster_cannot_open_two_cases_at_the_same_level(life: Lifecycle) -> None:
    life.apply(Level.BRONZE)
    with pytest.raises(StepNotAllowed, match="already has an open bronze case"):
        life.apply(Level.BRONZE)


def test_an_expert_who_declines_is_not_proposed_again_and_the_next_one_is(life: Lifecycle) -> None:
    first, second = life.expert(), life.expert()
    case_id = life.screened()
    life.app.propose_expert(case_id, first, actor="system", command_key=key())
    life.app.decline_assignment(case_id, first, "busy", actor=f"expert:{first}", command_key=key())
    assert life.app.eligible_experts(case_id) == [second]
    with pytest.raises(InvalidInput, match="already declined"):
        life.app.propose_expert(case_id, first, actor="system", command_key=key())


def test_an_unanswered_proposal_times_out_only_after_the_response_deadline(life: Lifecycle, clock: Clock) -> None:
    expert_id = life.expert()
    case_id = life.screened()
    life.app.propose_expert(case_id, expert_id, actor="system", command_key=key())
    with pytest.raises(StepNotAllowed, match="may answer until"):
        life.app.time_out_proposal(case_id, expert_id, actor="system", command_key=key())
    clock.advance(days=15)
    life.app.time_out_proposal(case_id, expert_id, actor="system", command_key=key())
    case = life.app.get_case(case_id)
    assert case.proposed_expert_id is None and expert_id in case.excluded_expert_ids


def test_an_affiliated_or_lapsed_expert_is_never_proposed(life: Lifecycle, clock: Clock) -> None:
    affiliated = life.expert(affiliations=[life.cluster_id])
    lapsed = life.expert(certified_until=clock.now - timedelta(days=1))
    case_id = life.screened()
    assert life.app.eligible_experts(case_id) == []
    with pytest.raises(InvalidInput, match="conflict of interest"):
        life.app.propose_expert(case_id, affiliated, actor="system", command_key=key())
    with pytest.raises(InvalidInput, match="certification has lapsed"):
        life.app.propose_expert(case_id, lapsed, actor="system", command_key=key())


def test_a_gold_team_has_one_national_and_one_foreign_expert(life: Lifecycle) -> None:
    foreign, national = life.expert("DE"), life.expert("LT")
    case_id = life.screened(Level.GOLD)
    with pytest.raises(InvalidInput, match="needs a national expert"):
        life.app.propose_expert(case_id, foreign, actor="system", command_key=key())
    assert life.app.eligible_experts(case_id) == [national]
    life.staff(case_id)
    case = life.app.get_case(case_id)
    assert set(case.expert_ids) == {foreign, national} and case.team_complete


def test_gold_is_supported_only_at_eighty_percent_with_every_threshold_met(life: Lifecycle) -> None:
    catalogue = load_catalogue("gold-2020")
    at_thresholds = {item.code: item.threshold or 0 for item in catalogue.indicators}
    case_id = life.auditing(Level.GOLD)
    expert_id = life.app.get_case(case_id).expert_ids[0]
    life.app.submit_assessment(case_id, expert_id, at_thresholds, {}, "report", actor="x", command_key=key())
    assert life.app.get_case(case_id).recommended_level is Level.BRONZE
    with pytest.raises(InvalidInput, match="supports bronze, not gold"):
        life.decide(case_id, Outcome.AWARD, Level.GOLD)
    life.decide(case_id, Outcome.AWARD, Level.BRONZE)
    assert life.app.get_case(case_id).decision["level"] is Level.BRONZE


def test_a_top_scoring_gold_assessment_supports_gold(life: Lifecycle) -> None:
    case_id = life.deciding(Level.GOLD, fraction=1.0)
    assert life.app.get_case(case_id).recommended_level is Level.GOLD


def test_an_assessment_must_cover_the_catalogue_exactly(life: Lifecycle) -> None:
    case_id = life.auditing()
    expert_id = life.app.get_case(case_id).expert_ids[0]
    scores = full_scores("bronze-2020")
    missing = sorted(scores)[0]
    del scores[missing]
    scores["B-XXX-99"] = 3
    before = event_count(life.app)
    with pytest.raises(InvalidInput) as refused:
        life.app.submit_assessment(case_id, expert_id, scores, {}, "report", actor="x", command_key=key())
    assert any(missing in problem for problem in refused.value.problems)
    assert any("B-XXX-99" in problem for problem in refused.value.problems)
    assert event_count(life.app) == before


def test_only_an_assigned_expert_submits_the_assessment(life: Lifecycle) -> None:
    case_id = life.auditing()
    with pytest.raises(ImpartialityViolation, match="not assigned"):
        life.app.submit_assessment(case_id, uuid4(), full_scores("bronze-2020"), {}, "r", actor="x", command_key=key())


def test_an_auditor_cannot_decide_on_the_case_they_audited(life: Lifecycle) -> None:
    case_id = life.deciding()
    auditor = life.app.get_case(case_id).expert_ids[0]
    before = event_count(life.app)
    with pytest.raises(ImpartialityViolation, match="took part in the audit"):
        life.app.record_decision(
            case_id, Outcome.AWARD, Level.BRONZE, "ok", decided_by=f"expert:{auditor}", actor=f"expert:{auditor}", command_key=key()
        )
    assert event_count(life.app) == before


def test_a_refusal_can_be_appealed_inside_the_window_and_decided_by_someone_else(life: Lifecycle) -> None:
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    life.app.lodge_appeal(case_id, "the evidence was misread", actor=SECRETARIAT, command_key=key())
    with pytest.raises(ImpartialityViolation, match="took the appealed decision"):
        life.app.decide_appeal(case_id, True, "agreed", decided_by=DECIDER, actor=SECRETARIAT, command_key=key())
    life.app.decide_appeal(case_id, True, "agreed", decided_by="board:appeals", actor=SECRETARIAT, command_key=key())
    assert life.app.get_case(case_id).state is CaseState.DECIDING
    with pytest.raises(ImpartialityViolation):
        life.decide(case_id, Outcome.AWARD)  # the first decider may not decide again
    life.app.record_decision(case_id, Outcome.AWARD, Level.BRONZE, "on appeal", decided_by="board:panel", actor=SECRETARIAT, command_key=key())
    assert life.app.get_case(case_id).state is CaseState.AWARDED


def test_an_appeal_after_the_window_is_refused(life: Lifecycle, clock: Clock) -> None:
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    clock.advance(days=31)
    with pytest.raises(StepNotAllowed, match="appeal window closed"):
        life.app.lodge_appeal(case_id, "late", actor=SECRETARIAT, command_key=key())


def test_a_dismissed_appeal_leaves_the_case_refused_and_concluded(life: Lifecycle) -> None:
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    life.app.lodge_appeal(case_id, "grounds", actor=SECRETARIAT, command_key=key())
    life.app.decide_appeal(case_id, False, "no merit", decided_by="board:appeals", actor=SECRETARIAT, command_key=key())
    case = life.app.get_case(case_id)
    assert case.state is CaseState.REFUSED and case.is_concluded(life.app.clock())


def test_a_silver_application_needs_a_bronze_round_18_to_24_months_before(life: Lifecycle, clock: Clock) -> None:
    areas = list(load_catalogue("gold-2020").codes()[:3])
    with pytest.raises(InvalidInput, match="no Bronze benchmarking"):
        life.apply(Level.SILVER, improvement_areas=areas)
    life.labelled(Level.BRONZE)
    clock.advance(days=365)
    with pytest.raises(InvalidInput, match="P18M to P24M"):
        life.apply(Level.SILVER, improvement_areas=areas)
    clock.advance(days=200)
    with pytest.raises(InvalidInput, match="exactly 3 distinct improvement areas"):
        life.apply(Level.SILVER, improvement_areas=areas[:2])
    case_id = life.apply(Level.SILVER, improvement_areas=areas)
    assert life.app.get_case(case_id).improvement_areas == sorted(areas)


def test_rotation_keeps_the_previous_rounds_expert_off_the_next_one(life: Lifecycle, clock: Clock) -> None:
    life.expert()
    _, label_id = life.labelled()
    previous_expert = life.app.get_label(label_id).expert_ids[0]
    clock.now = life.app.get_label(label_id).valid_until
    life.app.expire_label(label_id, actor="system", command_key=key())
    renewal = life.app.start_renewal(label_id, actor=SECRETARIAT, command_key=key())
    life.app.screen(renewal, True, "ok", actor=SECRETARIAT, command_key=key())
    assert previous_expert not in life.app.eligible_experts(renewal)
    with pytest.raises(InvalidInput, match="rotation"):
        life.app.propose_expert(renewal, previous_expert, actor="system", command_key=key())


def test_an_unknown_case_is_reported_as_not_found(life: Lifecycle) -> None:
    with pytest.raises(NotFound, match="no certificationcase"):
        life.app.screen(uuid4(), True, "x", actor=SECRETARIAT, command_key=key())


# ---- every step out of turn is refused and records nothing ---------------------------------

def _reach(life: Lifecycle, state: CaseState):
    """A case in the given state."""
    if state is CaseState.SCREENING:
        return life.apply()
    if state is CaseState.REJECTED:
        case_id = life.apply()
        life.app.screen(case_id, False, "incomplete", actor=SECRETARIAT, command_key=key())
        return case_id
    if state is CaseState.WITHDRAWN:
        case_id = life.apply()
        life.app.withdraw_case(case_id, "changed plans", actor=SECRETARIAT, command_key=key())
        return case_id
    if state is CaseState.ASSIGNING:
        return life.screened()
    if state is CaseState.AUDITING:
        return life.auditing()
    if state is CaseState.DECIDING:
        return life.deciding()
    case_id = life.deciding()
    life.decide(case_id, Outcome.AWARD if state is CaseState.AWARDED else Outcome.REFUSE)
    return case_id


STEPS = {
    "screen": (CaseState.SCREENING, lambda app, c, e: app.screen(c, True, "ok", actor=SECRETARIAT, command_key=key())),
    "propose": (CaseState.ASSIGNING, lambda app, c, e: app.propose_expert(c, e, actor="system", command_key=key())),
    "agree": (CaseState.ASSIGNING, lambda app, c, e: app.record_agreement(c, True, actor=SECRETARIAT, command_key=key())),
    "assess": (
        CaseState.AUDITING,
        lambda app, c, e: app.submit_assessment(c, e, full_scores("bronze-2020"), {}, "r", actor="x", command_key=key()),
    ),
    "decide": (
        CaseState.DECIDING,
        lambda app, c, e: app.record_decision(c, Outcome.AWARD, Level.BRONZE, "ok", decided_by="x", actor="x", command_key=key()),
    ),
    "appeal": (CaseState.REFUSED, lambda app, c, e: app.lodge_appeal(c, "grounds", actor="x", command_key=key())),
    "label": (CaseState.AWARDED, lambda app, c, e: app.issue_label(c, actor="system", command_key=key())),
}


OUT_OF_TURN = [(state, step) for step, (allowed_in, _) in STEPS.items() for state in CaseState if state is not allowed_in]


@pytest.mark.parametrize(("state", "step"), OUT_OF_TURN)
def test_a_step_out_of_turn_is_refused_and_records_nothing(life: Lifecycle, state: CaseState, step: str) -> None:
    command = STEPS[step][1]
    spare_expert = life.expert()
    case_id = _reach(life, state)
    before = event_count(life.app)
    with pytest.raises(DomainError):
        command(life.app, case_id, spare_expert)
    assert event_count(life.app) == before
    assert life.app.get_case(case_id).state is state


@pytest.mark.parametrize("state", [CaseState.AWARDED, CaseState.REJECTED, CaseState.WITHDRAWN, CaseState.REFUSED])
def test_a_concluded_case_cannot_be_withdrawn(life: Lifecycle, state: CaseState) -> None:
    case_id = _reach(life, state)
    with pytest.raises(StepNotAllowed, match="already"):
        life.app.withdraw_case(case_id, "too late", actor=SECRETARIAT, command_key=key())


def test_a_refusal_names_the_step_the_state_and_what_it_needed() -> None:
    from domain.certification_case import check_case_step

    with pytest.raises(StepNotAllowed, match="^cannot screen the application: the case is auditing, not screening$"):
        check_case_step("screen", CaseState.AUDITING)
    with pytest.raises(StepNotAllowed, match="^cannot withdraw: the case is already awarded$"):
        check_case_step("withdraw", CaseState.AWARDED)
