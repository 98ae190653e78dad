"""An expert taken off a case (their certification was revoked) frees their seat: the case goes back to
assigning and never proposes them again; once the assessment is in, it stands."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clusterlabel.domain.base import ImpartialityViolation, Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState, Outcome
from clusterlabel.domain.commands import (
    ProposeExpert,
    RecordAgreement,
    RecordDecision,
    ReleaseExpert,
    ScheduleAudit,
    SubmitAssessment,
)
from tests.builders import full_scores, indicators, send
from tests.lifecycle import SECRETARIAT, Lifecycle, event_count, memory_app


@pytest.fixture
def life() -> Lifecycle:
    return Lifecycle(memory_app())


def release(life: Lifecycle, case_id: object, expert_id: object) -> None:
    send(life.app, case_id, ReleaseExpert(expert_id=expert_id, reason="revoked"), actor=SECRETARIAT)


def test_a_released_team_expert_sends_the_auditing_case_back_to_assigning(life: Lifecycle) -> None:
    case_id = life.auditing()
    expert_id = life.app.get_case(case_id).expert_ids[0]
    release(life, case_id, expert_id)

    case = life.app.get_case(case_id)
    assert case.state is CaseState.ASSIGNING and case.awaiting_proposal
    assert expert_id not in case.team and expert_id in case.excluded_expert_ids
    assert "audit" not in case.deadlines
    assert expert_id not in life.app.eligible_experts(case_id)


def test_a_released_proposed_expert_leaves_the_proposal_open_for_another(life: Lifecycle) -> None:
    case_id = life.screened()
    life.expert()
    expert_id = life.app.eligible_experts(case_id)[0]
    send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor="system")
    release(life, case_id, expert_id)
    case = life.app.get_case(case_id)
    assert case.proposed_expert_id is None and "response" not in case.deadlines


def test_once_the_assessment_is_in_the_expert_is_not_released_and_nothing_is_recorded(life: Lifecycle) -> None:
    case_id = life.deciding()
    expert_id = life.app.get_case(case_id).expert_ids[0]
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="cannot release an expert: the case is deciding"):
        release(life, case_id, expert_id)
    assert event_count(life.app) == before


def test_an_expert_not_on_the_case_is_not_released(life: Lifecycle) -> None:
    case_id = life.auditing()
    stranger = life.expert(name="Stranger")
    with pytest.raises(StepNotAllowed, match="neither on the team nor proposed"):
        release(life, case_id, stranger)


def test_an_expert_released_after_scoring_the_case_never_decides_it_and_nothing_is_recorded(life: Lifecycle) -> None:
    """A Gold expert who submitted the team's first version (their scores) and was then released took part
    in the evaluation: deciding the case later, by the expert's own name, is refused (ISO/IEC 17065 §7.6)."""
    case_id, scorer = life.deciding_after_a_release()
    assert life.app.get_case(case_id).state is CaseState.DECIDING and scorer not in life.app.get_case(case_id).team

    before = event_count(life.app)
    decision = RecordDecision(outcome=Outcome.AWARD, level=Level.GOLD, rationale="as assessed")
    with pytest.raises(ImpartialityViolation, match="took part in the audit"):
        send(life.app, case_id, decision, actor=f"expert:{scorer}")
    assert event_count(life.app) == before
    life.decide(case_id)  # anyone else who never sat on the team decides
    assert life.app.get_case(case_id).decision is not None


def test_the_assessment_of_an_expert_released_after_scoring_goes_with_them(life: Lifecycle) -> None:
    """The scores of a Gold expert released while the team signed their first version were the old team's:
    the case stands unassessed, so the new team's audit is one still ahead (withdrawing the case cancels it in
    everyone's calendar) and no report or recommendation of the old version is shown as the case's."""
    case_id = life.auditing(Level.GOLD)
    scorer = life.app.get_case(case_id).expert_ids[0]
    scores = indicators(full_scores(life.app.get_case(case_id).catalogue_version, 0.9))
    submitted = SubmitAssessment(expert_id=scorer, indicators=scores, report="first version")
    send(life.app, case_id, submitted, actor=f"expert:{scorer}")
    release(life, case_id, scorer)

    case = life.app.get_case(case_id)
    assert (case.assessed_at, case.recommended_level, case.scores, case.draft_report) == (None, None, {}, None)
    assert case.assessment_version == 1  # the next version is 2: a signature sent for version 1 fits none
    life.staff(case_id)
    send(life.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
    audit_date = life.app.get_case(case_id).deadlines["audit"] - timedelta(days=1)
    send(life.app, case_id, ScheduleAudit(audit_date=audit_date, place="the cluster office"), actor=SECRETARIAT)
    assert life.app.get_case(case_id).audit_ahead
