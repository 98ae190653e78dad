"""The certification case: each step given the earlier ones, and every step refused out of turn."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from clusterlabel.domain.base import DomainError, ImpartialityViolation, InvalidInput, Level, NotFound, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState, Outcome
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import (
    AnswerProposal,
    CloseCase,
    DecideAppeal,
    ExpireLabel,
    IssueLabel,
    LodgeAppeal,
    ProposeExpert,
    RecordAgreement,
    RecordDecision,
    Screen,
    SignAssessment,
    StartRenewal,
    SubmitApplication,
    SubmitAssessment,
    TimeOutProposal,
    WithdrawCase,
)
from clusterlabel.domain.record_commands import RegisterCluster
from tests.builders import full_scores, indicators, key, register, send
from tests.lifecycle import DECIDER, SECRETARIAT, Clock, Lifecycle, event_count


def test_a_bronze_case_goes_from_application_to_award(life: Lifecycle) -> None:
    app = life.app
    case_id = life.apply()
    assert app.get_case(case_id).state is CaseState.SCREENING
    send(app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
    assert app.get_case(case_id).state is CaseState.ASSIGNING
    life.staff(case_id)
    send(app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
    assert app.get_case(case_id).state is CaseState.AUDITING
    life.assess(case_id)
    case = app.get_case(case_id)
    assert case.state is CaseState.DECIDING and case.recommended_level is Level.BRONZE
    life.decide(case_id)
    assert app.get_case(case_id).state is CaseState.AWARDED


def test_screening_can_reject_with_a_reason_but_not_without(life: Lifecycle) -> None:
    case_id = life.apply()
    with pytest.raises(InvalidInput, match="needs a reason"):
        send(life.app, case_id, Screen(accepted=False, reason="  "), actor=SECRETARIAT)
    send(life.app, case_id, Screen(accepted=False, reason="documents missing"), actor=SECRETARIAT)
    assert life.app.get_case(case_id).state is CaseState.REJECTED


def test_an_ineligible_cluster_hears_every_unmet_criterion_at_once(life: Lifecycle) -> None:
    from tests.builders import cluster_profile

    profile = cluster_profile(
        members=3, staff_fte=0.2, member_types=["business"], eccp_listed=False, english_website=False
    )
    weak = register(life.app, RegisterCluster(profile=profile), actor=SECRETARIAT, command_key=key())
    before = event_count(life.app)
    with pytest.raises(InvalidInput) as refused:
        send(life.app, weak, SubmitApplication(cluster_id=weak, level=Level.BRONZE), actor=SECRETARIAT)
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
    send(life.app, case_id, ProposeExpert(expert_id=first), actor="system")
    send(life.app, case_id, AnswerProposal(expert_id=first, accept=False, reason="busy"), actor=f"expert:{first}")
    assert life.app.eligible_experts(case_id) == [second]
    with pytest.raises(InvalidInput, match="already declined"):
        send(life.app, case_id, ProposeExpert(expert_id=first), actor="system")


def test_an_unanswered_proposal_times_out_only_after_the_response_deadline(life: Lifecycle, clock: Clock) -> None:
    expert_id = life.expert()
    case_id = life.screened()
    send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor="system")
    with pytest.raises(StepNotAllowed, match="may answer until"):
        send(life.app, case_id, TimeOutProposal(expert_id=expert_id), actor="system")
    clock.advance(days=15)
    send(life.app, case_id, TimeOutProposal(expert_id=expert_id), actor="system")
    case = life.app.get_case(case_id)
    assert case.proposed_expert_id is None and expert_id in case.excluded_expert_ids


def test_an_affiliated_or_lapsed_expert_is_never_proposed(life: Lifecycle, clock: Clock) -> None:
    affiliated = life.expert(affiliations=[life.cluster_id])
    lapsed = life.expert(certified_until=clock.now - timedelta(days=1))
    case_id = life.screened()
    assert life.app.eligible_experts(case_id) == []
    with pytest.raises(InvalidInput, match="conflict of interest"):
        send(life.app, case_id, ProposeExpert(expert_id=affiliated), actor="system")
    with pytest.raises(InvalidInput, match="certification has lapsed"):
        send(life.app, case_id, ProposeExpert(expert_id=lapsed), actor="system")


def test_a_gold_team_has_one_national_and_one_foreign_expert(life: Lifecycle) -> None:
    foreign, national = life.expert("DE"), life.expert("LT")
    case_id = life.screened(Level.GOLD)
    with pytest.raises(InvalidInput, match="needs a national expert"):
        send(life.app, case_id, ProposeExpert(expert_id=foreign), actor="system")
    assert life.app.eligible_experts(case_id) == [national]
    life.staff(case_id)
    case = life.app.get_case(case_id)
    assert set(case.expert_ids) == {foreign, national} and case.team_complete


def test_gold_is_supported_only_at_eighty_percent_with_every_threshold_met(life: Lifecycle) -> None:
    catalogue = load_catalogue("gold-2020")
    at_thresholds = {item.code: item.threshold or 0 for item in catalogue.indicators}
    case_id = life.auditing(Level.GOLD)
    expert_id = life.app.get_case(case_id).expert_ids[0]
    send(
        life.app,
        case_id,
        SubmitAssessment(expert_id=expert_id, indicators=indicators(at_thresholds), report="report"),
        actor="x",
    )
    life.sign(case_id)
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
        send(
            life.app,
            case_id,
            SubmitAssessment(expert_id=expert_id, indicators=indicators(scores), report="report"),
            actor="x",
        )
    assert any(missing in str(problem) for problem in refused.value.problems)
    assert any("B-XXX-99" in str(problem) for problem in refused.value.problems)
    assert event_count(life.app) == before


def test_only_an_assigned_expert_submits_the_assessment(life: Lifecycle) -> None:
    case_id = life.auditing()
    with pytest.raises(ImpartialityViolation, match="not assigned"):
        command = SubmitAssessment(expert_id=uuid4(), indicators=indicators(full_scores("bronze-2020")), report="r")
        send(life.app, case_id, command, actor="x")


def test_an_auditor_cannot_decide_on_the_case_they_audited(life: Lifecycle) -> None:
    case_id = life.deciding()
    auditor = life.app.get_case(case_id).expert_ids[0]
    before = event_count(life.app)
    with pytest.raises(ImpartialityViolation, match="took part in the audit"):
        command = RecordDecision(outcome=Outcome.AWARD, level=Level.BRONZE, rationale="ok")
        send(life.app, case_id, command, actor=f"expert:{auditor}")
    assert event_count(life.app) == before


def test_a_refusal_can_be_appealed_inside_the_window_and_decided_by_someone_else(life: Lifecycle) -> None:
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    send(life.app, case_id, LodgeAppeal(grounds="the evidence was misread"), actor=SECRETARIAT)
    with pytest.raises(ImpartialityViolation, match="took the appealed decision"):
        send(life.app, case_id, DecideAppeal(upheld=True, rationale="agreed"), actor=DECIDER)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="agreed"), actor="board:appeals")
    assert life.app.get_case(case_id).state is CaseState.DECIDING
    with pytest.raises(ImpartialityViolation):
        life.decide(case_id, Outcome.AWARD)  # the first decider may not decide again
    command = RecordDecision(outcome=Outcome.AWARD, level=Level.BRONZE, rationale="on appeal")
    send(life.app, case_id, command, actor="board:panel")
    assert life.app.get_case(case_id).state is CaseState.AWARDED


def test_an_appeal_after_the_window_is_refused(life: Lifecycle, clock: Clock) -> None:
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    clock.advance(days=31)
    with pytest.raises(StepNotAllowed, match="appeal window closed"):
        send(life.app, case_id, LodgeAppeal(grounds="late"), actor=SECRETARIAT)


def test_a_dismissed_appeal_leaves_the_case_refused_and_concluded(life: Lifecycle) -> None:
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    send(life.app, case_id, LodgeAppeal(grounds="grounds"), actor=SECRETARIAT)
    send(
        life.app,
        case_id,
        DecideAppeal(upheld=False, rationale="no merit"),
        actor="board:appeals",
    )
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
    send(life.app, label_id, ExpireLabel(), actor="system")
    renewal = send(life.app, label_id, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    send(life.app, renewal, Screen(accepted=True, reason="ok"), actor=SECRETARIAT)
    assert previous_expert not in life.app.eligible_experts(renewal)
    with pytest.raises(InvalidInput, match="rotation"):
        send(life.app, renewal, ProposeExpert(expert_id=previous_expert), actor="system")


def test_a_renewal_rotates_out_the_experts_of_the_renewed_labels_round_and_of_the_round_since(
    life: Lifecycle, clock: Clock
) -> None:
    """A benchmarking round came between the label's award and its renewal: the renewal keeps off both the
    expert who audited the cluster last and the one whose round earned the label it renews."""
    _, label_id = life.labelled()
    label_expert = life.app.get_label(label_id).expert_ids[0]
    clock.advance(days=200)
    benchmarking = life.deciding(Level.GOLD, benchmarking_only=True)
    benchmarking_experts = set(life.app.get_case(benchmarking).expert_ids)
    life.decide(benchmarking)
    send(life.app, benchmarking, CloseCase(), actor="system")
    assert label_expert not in benchmarking_experts
    clock.now = life.app.get_label(label_id).valid_until
    send(life.app, label_id, ExpireLabel(), actor="system")

    renewal = send(life.app, label_id, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    send(life.app, renewal, Screen(accepted=True, reason="ok"), actor=SECRETARIAT)

    eligible = life.app.eligible_experts(renewal)
    assert label_expert not in eligible and not benchmarking_experts & set(eligible)
    with pytest.raises(InvalidInput, match="rotation"):
        send(life.app, renewal, ProposeExpert(expert_id=label_expert), actor="system")


def test_an_unknown_case_is_reported_as_not_found(life: Lifecycle) -> None:
    with pytest.raises(NotFound, match="no certificationcase"):
        send(life.app, uuid4(), Screen(accepted=True, reason="x"), actor=SECRETARIAT)


# ---- every step out of turn is refused and records nothing ---------------------------------


def _reach(life: Lifecycle, state: CaseState):
    """A case in the given state."""
    if state is CaseState.SCREENING:
        return life.apply()
    if state is CaseState.REJECTED:
        case_id = life.apply()
        send(life.app, case_id, Screen(accepted=False, reason="incomplete"), actor=SECRETARIAT)
        return case_id
    if state is CaseState.WITHDRAWN:
        case_id = life.apply()
        send(life.app, case_id, WithdrawCase(reason="changed plans"), actor=SECRETARIAT)
        return case_id
    if state is CaseState.ASSIGNING:
        return life.screened()
    if state is CaseState.AUDITING:
        return life.auditing()
    if state is CaseState.DECIDING:
        return life.deciding()
    if state is CaseState.BENCHMARKED:
        case_id = life.deciding(benchmarking_only=True)
        life.decide(case_id)
        return case_id
    case_id = life.deciding()
    life.decide(case_id, Outcome.AWARD if state is CaseState.AWARDED else Outcome.REFUSE)
    return case_id


STEPS = {
    "screen": (
        CaseState.SCREENING,
        lambda app, c, e: send(app, c, Screen(accepted=True, reason="ok"), actor=SECRETARIAT),
    ),
    "propose": (CaseState.ASSIGNING, lambda app, c, e: send(app, c, ProposeExpert(expert_id=e), actor="system")),
    "agree": (CaseState.ASSIGNING, lambda app, c, e: send(app, c, RecordAgreement(agreed=True), actor=SECRETARIAT)),
    "assess": (
        CaseState.AUDITING,
        lambda app, c, e: send(
            app,
            c,
            SubmitAssessment(expert_id=e, indicators=indicators(full_scores("bronze-2020")), report="r"),
            actor="x",
        ),
    ),
    "decide": (
        CaseState.DECIDING,
        lambda app, c, e: send(
            app, c, RecordDecision(outcome=Outcome.AWARD, level=Level.BRONZE, rationale="ok"), actor="x"
        ),
    ),
    "sign": (CaseState.AUDITING, lambda app, c, e: send(app, c, SignAssessment(expert_id=e), actor="x")),
    "appeal": (
        {CaseState.REFUSED, CaseState.REJECTED},
        lambda app, c, e: send(app, c, LodgeAppeal(grounds="grounds"), actor="x"),
    ),
    "label": (CaseState.AWARDED, lambda app, c, e: send(app, c, IssueLabel(), actor="system")),
}


OUT_OF_TURN = [
    (state, step)
    for step, (allowed_in, _) in STEPS.items()
    for state in CaseState
    if state not in (allowed_in if isinstance(allowed_in, set) else {allowed_in})
]


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
        send(life.app, case_id, WithdrawCase(reason="too late"), actor=SECRETARIAT)


def test_a_refusal_names_the_step_the_state_and_what_it_needed() -> None:
    from clusterlabel.domain.case_lifecycle import check_case_step

    with pytest.raises(StepNotAllowed, match=r"^cannot screen the application: the case is auditing, not screening$"):
        check_case_step("screen", CaseState.AUDITING)
    with pytest.raises(StepNotAllowed, match=r"^cannot withdraw: the case is already awarded$"):
        check_case_step("withdraw", CaseState.AWARDED)
