"""Benchmarking for anyone, the label only for the eligible: checked at the application and again at the decision."""

from __future__ import annotations

import pytest

from clusterlabel.domain.base import InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import BENCHMARK_OUTCOME, CaseKind, CaseState, Outcome
from clusterlabel.domain.cluster import EligibilityCriterion
from clusterlabel.domain.commands import CloseCase, IssueLabel, RecordDecision
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.record_commands import UpdateClusterProfile, WaiveEligibilityCriterion
from tests.builders import cluster_profile, send
from tests.lifecycle import DECIDER, SECRETARIAT, Lifecycle, event_count, memory_app

INELIGIBLE = {"members": 3, "eccp_listed": False}


@pytest.fixture
def life() -> Lifecycle:
    return Lifecycle(memory_app())


def _make_ineligible(life: Lifecycle) -> None:
    profile = UpdateClusterProfile(profile=cluster_profile(**INELIGIBLE))
    send(life.app, life.cluster_id, profile, actor=SECRETARIAT)


def test_a_cluster_missing_criteria_may_still_apply_for_benchmarking_only(life: Lifecycle) -> None:
    _make_ineligible(life)
    with pytest.raises(InvalidInput) as refused:
        life.apply()
    assert len(refused.value.problems) == 2
    case = life.app.get_case(life.apply(benchmarking_only=True))
    assert case.kind is CaseKind.BENCHMARKING and case.state is CaseState.SCREENING


def test_a_benchmarking_case_once_decided_ends_benchmarked_without_a_label(life: Lifecycle) -> None:
    _make_ineligible(life)
    case_id = life.deciding(benchmarking_only=True)
    life.decide(case_id)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.BENCHMARKED and case.decision is not None
    assert case.decision["outcome"] == BENCHMARK_OUTCOME and case.label_id is None
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="only for an awarded case"):
        send(life.app, case_id, IssueLabel(), actor="system")
    assert event_count(life.app) == before
    send(life.app, case_id, CloseCase(), actor="system")
    assert case_id not in life.app.get_cluster(life.cluster_id).open_cases


def test_a_label_case_whose_cluster_stopped_meeting_a_criterion_ends_benchmarked(life: Lifecycle) -> None:
    case_id = life.deciding()
    _make_ineligible(life)
    life.decide(case_id)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.BENCHMARKED and case.label_id is None
    assert any("3 committed members" in criterion for criterion in case.lapsed_criteria)
    assert any("European Cluster Collaboration Platform" in criterion for criterion in case.lapsed_criteria)


def test_a_refusal_of_an_ineligible_clusters_case_stays_a_refusal(life: Lifecycle) -> None:
    case_id = life.deciding()
    _make_ineligible(life)
    life.decide(case_id, Outcome.REFUSE)
    assert life.app.get_case(case_id).state is CaseState.REFUSED


def test_an_eligible_clusters_award_is_unchanged(life: Lifecycle) -> None:
    case_id = life.awarded(Level.BRONZE)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.AWARDED and case.lapsed_criteria == []


def test_a_waiver_granted_by_an_officer_with_its_reason_stands_in_for_a_criterion(life: Lifecycle) -> None:
    _make_ineligible(life)
    for criterion in (EligibilityCriterion.MEMBERS, EligibilityCriterion.ECCP_LISTING):
        waiver = WaiveEligibilityCriterion(criterion=criterion, reason="a national cluster programme")
        send(life.app, life.cluster_id, waiver, actor="account:officer-olga")
    cluster = life.app.get_cluster(life.cluster_id)
    assert cluster.waivers[EligibilityCriterion.MEMBERS]["granted_by"] == "account:officer-olga"
    case_id = life.deciding()
    life.decide(case_id)
    assert life.app.get_case(case_id).state is CaseState.AWARDED


def test_a_waiver_without_a_reason_or_twice_is_refused_and_records_nothing(life: Lifecycle) -> None:
    members = EligibilityCriterion.MEMBERS
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match="needs a reason"):
        life.app.get_cluster(life.cluster_id).waive(members, "  ", life.app.clock(), SECRETARIAT, "k")
    assert event_count(life.app) == before
    send(life.app, life.cluster_id, WaiveEligibilityCriterion(criterion=members, reason="programme"), actor=SECRETARIAT)
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="already waived"):
        send(life.app, life.cluster_id, WaiveEligibilityCriterion(criterion=members, reason="again"), actor=SECRETARIAT)
    assert event_count(life.app) == before


def test_a_waiver_stands_in_for_its_criterion_only(life: Lifecycle) -> None:
    _make_ineligible(life)
    waiver = WaiveEligibilityCriterion(criterion=EligibilityCriterion.MEMBERS, reason="a national programme")
    send(life.app, life.cluster_id, waiver, actor=SECRETARIAT)
    with pytest.raises(InvalidInput) as refused:
        life.apply()
    assert [problem.msg for problem in refused.value.problems] == [
        "the cluster is not listed on the European Cluster Collaboration Platform"
    ]


def test_the_cluster_is_told_its_case_ended_benchmarked_why_and_which_criteria_it_no_longer_meets(
    life: Lifecycle,
) -> None:
    case_id = life.deciding()
    _make_ineligible(life)
    send(
        life.app,
        case_id,
        RecordDecision(outcome=Outcome.AWARD, rationale="as assessed"),
        actor=DECIDER,
        command_key="decided",
    )
    told = life.app.load(Notification.create_id(f"decided/notify/cluster:{life.cluster_id}"), Notification)
    assert told.kind == "case_benchmarked" and told.data["reason"] == "as assessed"
    assert "3 committed members" in told.data["unmet"] and "no label" in told.body
