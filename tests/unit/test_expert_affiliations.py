"""An expert's affiliations carry the period they ran: one that ended within the policy's cooling-off
period (three years by default) keeps the expert off the cluster's cases, an older one does not, and one
declared without dates (as every affiliation recorded before they had dates) keeps them off for good. On
accepting a case the expert declares no conflict of interest with its cluster (ISO/IEC 17065 §4.2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest
from pydantic import ValidationError

from clusterlabel.domain.base import InvalidInput, StepNotAllowed
from clusterlabel.domain.commands import AnswerProposal, ProposeExpert
from clusterlabel.domain.durations import Duration
from clusterlabel.domain.policy import default_policy
from clusterlabel.domain.record_commands import DeclareAffiliation
from tests.builders import T0, send
from tests.lifecycle import SECRETARIAT, Lifecycle, event_count, memory_app

T0_ID = UUID(int=1)


@pytest.fixture
def life() -> Lifecycle:
    return Lifecycle(memory_app())


def affiliated(life: Lifecycle, since: datetime | None = None, until: datetime | None = None) -> UUID:
    expert_id = life.expert()
    declared = DeclareAffiliation(cluster_id=life.cluster_id, since=since, until=until)
    send(life.app, expert_id, declared, actor=SECRETARIAT)
    return expert_id


def test_the_policy_keeps_an_affiliated_expert_off_for_three_years_after_it_ended() -> None:
    assert default_policy().affiliation_cooling_off == Duration(years=3)


def test_a_consultancy_that_ended_within_the_period_excludes_the_expert(life: Lifecycle) -> None:
    recent = affiliated(life, since=T0 - timedelta(days=800), until=T0 - timedelta(days=365))
    case_id = life.screened()
    assert recent not in life.app.eligible_experts(case_id)
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match=r"affiliated with the cluster until .*within the cooling-off period"):
        send(life.app, case_id, ProposeExpert(expert_id=recent), actor="system")
    assert event_count(life.app) == before


def test_an_affiliation_that_ended_before_the_period_does_not_exclude(life: Lifecycle) -> None:
    old = affiliated(life, since=T0 - timedelta(days=3000), until=T0 - timedelta(days=4 * 365))
    case_id = life.screened()
    assert old in life.app.eligible_experts(case_id)
    send(life.app, case_id, ProposeExpert(expert_id=old), actor="system")
    assert life.app.get_case(case_id).proposed_expert_id == old


def test_an_ongoing_or_undated_affiliation_excludes_for_good(life: Lifecycle) -> None:
    ongoing = affiliated(life, since=T0 - timedelta(days=10 * 365))
    undated = affiliated(life)
    case_id = life.screened()
    eligible = life.app.eligible_experts(case_id)
    assert ongoing not in eligible and undated not in eligible
    with pytest.raises(InvalidInput, match=r"is affiliated with the cluster \(conflict of interest\)"):
        send(life.app, case_id, ProposeExpert(expert_id=undated), actor="system")


def test_an_affiliation_ending_before_it_began_is_refused_and_nothing_is_recorded(life: Lifecycle) -> None:
    expert_id = life.expert()
    before = event_count(life.app)
    backwards = DeclareAffiliation(cluster_id=life.cluster_id, since=T0, until=T0 - timedelta(days=1))
    with pytest.raises(InvalidInput, match=r"cannot end .* before it began"):
        send(life.app, expert_id, backwards, actor=SECRETARIAT)
    assert event_count(life.app) == before


def test_an_expert_accepting_with_the_declaration_has_it_on_record_for_the_case(life: Lifecycle) -> None:
    expert_id = life.expert()
    case_id = life.screened()
    send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor="system")
    answer = AnswerProposal(expert_id=expert_id, accept=True, no_conflict_declared=True)
    send(life.app, case_id, answer, actor=f"expert:{expert_id}")
    assert life.app.get_case(case_id).expert_ids == [expert_id]
    assert life.app.get_expert(expert_id).conflict_declarations == {case_id: (life.cluster_id, T0)}


def test_an_acceptance_without_the_declaration_is_taken_and_records_none(life: Lifecycle) -> None:
    expert_id = life.expert()
    case_id = life.screened()
    send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor="system")
    send(life.app, case_id, AnswerProposal(expert_id=expert_id, accept=True), actor=f"expert:{expert_id}")
    assert life.app.get_case(case_id).expert_ids == [expert_id]
    assert life.app.get_expert(expert_id).conflict_declarations == {}


def test_accepting_while_declaring_a_conflict_is_refused_as_bad_input() -> None:
    with pytest.raises(ValidationError, match="conflict of interest declines the proposal"):
        AnswerProposal(expert_id=T0_ID, accept=True, no_conflict_declared=False)
    assert AnswerProposal(expert_id=T0_ID, accept=False, reason="I consulted for them", no_conflict_declared=False)


def test_an_affiliation_declared_after_the_proposal_refuses_the_declaration_and_nothing_is_recorded(
    life: Lifecycle,
) -> None:
    expert_id = life.expert()
    case_id = life.screened()
    send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor="system")
    send(life.app, expert_id, DeclareAffiliation(cluster_id=life.cluster_id), actor=SECRETARIAT)
    before = event_count(life.app)
    for declared in (True, None):  # leaving the declaration out does not get round the affiliation
        answer = AnswerProposal(expert_id=expert_id, accept=True, no_conflict_declared=declared)
        with pytest.raises(StepNotAllowed, match="is affiliated with the cluster: they cannot take this cluster's"):
            send(life.app, case_id, answer, actor=f"expert:{expert_id}")
    assert event_count(life.app) == before
    assert life.app.get_case(case_id).proposed_expert_id == expert_id
