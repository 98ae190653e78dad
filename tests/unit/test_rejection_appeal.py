"""An application rejected at screening may be appealed inside the appeal window; an upheld appeal sends
it back to a new screening, by someone other than who rejected it."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from clusterlabel.activities.views import case_view
from clusterlabel.domain.base import ImpartialityViolation, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState, Outcome
from clusterlabel.domain.commands import CloseCase, DecideAppeal, LodgeAppeal, RecordAgreement, Screen
from clusterlabel.domain.notification import Notification
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count

SECOND_OFFICER = "secretariat:olga"
PANEL = "board:appeals"


def _rejected(life: Lifecycle) -> UUID:
    case_id = life.apply()
    send(life.app, case_id, Screen(accepted=False, reason="documents missing"), actor=SECRETARIAT)
    return case_id


def _appealed(life: Lifecycle) -> UUID:
    case_id = _rejected(life)
    send(life.app, case_id, LodgeAppeal(grounds="the documents were sent"), actor=SECRETARIAT)
    return case_id


def test_a_rejection_opens_the_appeal_window_and_the_case_stays_open_meanwhile(life: Lifecycle, clock: Clock) -> None:
    case_id = _rejected(life)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.REJECTED and "appeal" in case.deadlines
    assert not case.is_concluded(clock())
    with pytest.raises(StepNotAllowed, match="still rejected"):
        send(life.app, case_id, CloseCase(), actor="system")
    clock.now = case.deadlines["appeal"]
    assert life.app.get_case(case_id).is_concluded(clock())
    send(life.app, case_id, CloseCase(), actor="system")


def test_an_upheld_appeal_sends_the_case_back_to_a_new_screening(life: Lifecycle) -> None:
    case_id = _appealed(life)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="the documents were there"), actor=PANEL)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.SCREENING and case.deadlines["screening"] > case.submitted_at
    send(life.app, case_id, Screen(accepted=True, reason="complete"), actor=SECOND_OFFICER)
    assert life.app.get_case(case_id).state is CaseState.ASSIGNING


def test_who_rejected_neither_decides_the_appeal_nor_screens_again(life: Lifecycle) -> None:
    case_id = _appealed(life)
    before = event_count(life.app)
    with pytest.raises(ImpartialityViolation, match="took the appealed decision"):
        send(life.app, case_id, DecideAppeal(upheld=True, rationale="mine"), actor=SECRETARIAT)
    assert event_count(life.app) == before
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="the documents were there"), actor=PANEL)
    before = event_count(life.app)
    with pytest.raises(ImpartialityViolation, match="cannot screen the application again"):
        send(life.app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
    assert event_count(life.app) == before


def test_a_dismissed_appeal_leaves_the_rejection_final(life: Lifecycle, clock: Clock) -> None:
    case_id = _appealed(life)
    send(life.app, case_id, DecideAppeal(upheld=False, rationale="incomplete indeed"), actor=PANEL)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.REJECTED and case.is_concluded(clock())
    with pytest.raises(StepNotAllowed, match="already been lodged"):
        send(life.app, case_id, LodgeAppeal(grounds="again"), actor=SECRETARIAT)


def test_an_appeal_after_the_window_is_refused_and_records_nothing(life: Lifecycle, clock: Clock) -> None:
    case_id = _rejected(life)
    clock.advance(days=31)
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="appeal window closed"):
        send(life.app, case_id, LodgeAppeal(grounds="late"), actor=SECRETARIAT)
    assert event_count(life.app) == before


def test_a_case_back_from_a_screening_appeal_may_appeal_its_refusal_later(life: Lifecycle, clock: Clock) -> None:
    case_id = _appealed(life)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="the documents were there"), actor=PANEL)
    send(life.app, case_id, Screen(accepted=True, reason="complete"), actor=SECOND_OFFICER)
    life.staff(case_id)
    send(life.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
    life.assess(case_id)
    life.decide(case_id, Outcome.REFUSE)
    clock.advance(days=1)
    send(life.app, case_id, LodgeAppeal(grounds="the scores were misread"), actor=SECRETARIAT)
    case = life.app.get_case(case_id)
    assert case.appeal is not None and case.appeal["against"] == "refused" and len(case.past_appeals) == 1
    assert case.deadlines["appeal"] - case.decision["at"] == timedelta(days=30)


def test_a_rejection_taken_again_after_an_upheld_appeal_is_final(life: Lifecycle, clock: Clock) -> None:
    # Before, the second rejection opened a fresh window and the cluster could appeal it again.
    case_id = _appealed(life)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="the documents were there"), actor=PANEL)
    rejection = Screen(accepted=False, reason="still incomplete")
    send(life.app, case_id, rejection, actor=SECOND_OFFICER, command_key="rejected-again")
    case = life.app.get_case(case_id)
    assert case.state is CaseState.REJECTED and case.is_concluded(clock())
    told = life.app.load(Notification.create_id(f"rejected-again/notify/cluster:{case.cluster_id}"), Notification)
    assert "this decision is final" in told.body and "You may appeal" not in told.body
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="taken again after an upheld appeal and is final"):
        send(life.app, case_id, LodgeAppeal(grounds="once more"), actor=SECRETARIAT)
    assert event_count(life.app) == before
    send(life.app, case_id, CloseCase(), actor="system")


def test_the_appeal_is_the_step_a_rejected_case_works_against_only_while_it_may_be_lodged(
    life: Lifecycle, clock: Clock
) -> None:
    """Past its window, or rejected again after an upheld appeal (final), the case page shows no appeal
    deadline (it showed one overdue for good); the workflow's alarm that closes the case stays."""
    case_id = _rejected(life)
    due = life.app.get_case(case_id).deadlines["appeal"]
    assert case_view(life.app.policy, life.app.get_case(case_id), clock()).current_step == "appeal"
    past = case_view(life.app.policy, life.app.get_case(case_id), due + timedelta(days=1))
    assert past.current_step is None and [(a.step, a.at) for a in past.alarms] == [("appeal", due)]

    again = _appealed(Lifecycle(life.app, "LV"))
    send(life.app, again, DecideAppeal(upheld=True, rationale="the documents were there"), actor=PANEL)
    send(life.app, again, Screen(accepted=False, reason="still incomplete"), actor=SECOND_OFFICER)
    final = case_view(life.app.policy, life.app.get_case(again), clock())
    assert final.current_step is None and "appeal" in final.deadlines
