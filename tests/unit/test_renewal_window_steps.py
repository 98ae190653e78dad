"""A renewal started close to its label's window's close: every step before the audit is due by the window's
close at the latest, so that the case escalates then (its deadline passed), and no expert is asked to audit
a renewal that can no longer be benchmarked in time."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from clusterlabel.activities.views import case_view
from clusterlabel.domain.base import StepNotAllowed
from clusterlabel.domain.commands import AnswerProposal, ProposeExpert, Screen, StartRenewal
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count, memory_app


def renewal_started_days_before_the_close(days: float) -> tuple[Lifecycle, Clock, UUID, UUID]:
    """A Bronze label, and its renewal case started `days` before its renewal window closes."""
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    _, label_id = life.labelled()
    for country in ("LT", "DE"):  # certified beyond the window (the first round's experts rotate out)
        life.expert(country, certified_until=clock.now + timedelta(days=10 * 365))
    clock.now = life.app.get_label(label_id).renewable_until - timedelta(days=days)
    renewal = send(life.app, label_id, StartRenewal(), actor=SECRETARIAT).renewal_case_id
    assert renewal is not None
    return life, clock, label_id, renewal


def test_a_renewals_screening_and_agreement_are_due_by_the_windows_close_at_the_latest() -> None:
    life, clock, label_id, renewal = renewal_started_days_before_the_close(3)
    closes = life.app.get_label(label_id).renewable_until

    assert life.app.get_case(renewal).deadlines["screening"] == closes
    send(life.app, renewal, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
    life.staff(renewal)
    case = life.app.get_case(renewal)
    assert case.deadlines["agreement"] == closes
    # Three days to agree: the 7-day reminder would fall before the cluster was asked, and is none.
    assert [(alarm.kind, alarm.at) for alarm in case_view(life.app.policy, case, clock()).alarms] == [
        ("deadline", closes)
    ]


def test_a_renewal_started_in_good_time_keeps_the_policys_deadlines() -> None:
    life, clock, _label_id, renewal = renewal_started_days_before_the_close(200)

    assert life.app.get_case(renewal).deadlines["screening"] == life.app.policy.screening_deadline.after(clock.now)


def test_no_expert_is_proposed_for_a_renewal_once_its_window_has_closed() -> None:
    life, clock, label_id, renewal = renewal_started_days_before_the_close(3)
    send(life.app, renewal, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
    [expert_id, *_] = life.app.eligible_experts(renewal)
    clock.now = life.app.get_label(label_id).renewable_until
    before = event_count(life.app)

    with pytest.raises(StepNotAllowed, match="cannot propose an expert: the renewal window closed on"):
        send(life.app, renewal, ProposeExpert(expert_id=expert_id), actor="system")
    assert event_count(life.app) == before

    clock.now -= timedelta(days=1)  # the day before, the proposal goes out, and the expert may accept
    send(life.app, renewal, ProposeExpert(expert_id=expert_id), actor="system")
    send(life.app, renewal, AnswerProposal(expert_id=expert_id, accept=True), actor=f"expert:{expert_id}")
