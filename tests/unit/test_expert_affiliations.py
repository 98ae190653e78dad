"""An expert's affiliations carry the period they ran: one that ended within the policy's cooling-off
period (three years by default) keeps the expert off the cluster's cases, an older one does not, and one
declared without dates (as every affiliation recorded before they had dates) keeps them off for good."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest

from clusterlabel.domain.base import InvalidInput
from clusterlabel.domain.commands import ProposeExpert
from clusterlabel.domain.durations import Duration
from clusterlabel.domain.policy import default_policy
from clusterlabel.domain.record_commands import DeclareAffiliation
from tests.builders import T0, send
from tests.lifecycle import SECRETARIAT, Lifecycle, event_count, memory_app


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
