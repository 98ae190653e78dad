"""A Gold team's assessment: both experts sign the one version before the case moves to decision."""

from __future__ import annotations

from uuid import UUID

import pytest

from clusterlabel.domain.base import ImpartialityViolation, Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import RecordAgreement, ReleaseExpert, SignAssessment, SubmitAssessment
from tests.builders import full_scores, indicators, send
from tests.lifecycle import SECRETARIAT, Lifecycle, event_count, memory_app


@pytest.fixture
def life() -> Lifecycle:
    return Lifecycle(memory_app())


def _submit(life: Lifecycle, case_id: UUID, expert_id: UUID, report: str = "report", fraction: float = 1.0) -> None:
    scores = full_scores(load_catalogue(life.app.get_case(case_id).catalogue_version), fraction)
    command = SubmitAssessment(expert_id=expert_id, indicators=indicators(scores), report=report)
    send(life.app, case_id, command, actor=f"expert:{expert_id}")


def _sign(life: Lifecycle, case_id: UUID, expert_id: UUID, version: int | None = None) -> None:
    send(life.app, case_id, SignAssessment(expert_id=expert_id, version=version), actor=f"expert:{expert_id}")


def test_a_gold_assessment_waits_in_auditing_for_the_second_experts_signature(life: Lifecycle) -> None:
    case_id = life.auditing(Level.GOLD)
    first, second = life.app.get_case(case_id).expert_ids
    _submit(life, case_id, first)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.AUDITING and case.signed_by == [first] and case.assessment_version == 1
    _sign(life, case_id, second)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.DECIDING and case.signed_by == [first, second]
    assert case.recommended_level is Level.GOLD


def test_an_expert_off_the_team_cannot_sign_and_nothing_is_recorded(life: Lifecycle) -> None:
    case_id = life.auditing(Level.GOLD)
    first, _ = life.app.get_case(case_id).expert_ids
    _submit(life, case_id, first)
    outsider = life.expert("FR")
    before = event_count(life.app)
    with pytest.raises(ImpartialityViolation, match="not on this case's team"):
        _sign(life, case_id, outsider)
    assert event_count(life.app) == before


def test_an_expert_signs_a_version_once(life: Lifecycle) -> None:
    case_id = life.auditing(Level.GOLD)
    first, _ = life.app.get_case(case_id).expert_ids
    _submit(life, case_id, first)
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="already signed version 1"):
        _sign(life, case_id, first)
    assert event_count(life.app) == before and life.app.get_case(case_id).state is CaseState.AUDITING


def test_nothing_can_be_signed_before_a_version_is_submitted(life: Lifecycle) -> None:
    case_id = life.auditing(Level.GOLD)
    first, _ = life.app.get_case(case_id).expert_ids
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="no version of it awaits signatures"):
        _sign(life, case_id, first)
    assert event_count(life.app) == before


def test_a_disagreeing_expert_submits_a_new_version_that_clears_the_first_signature(life: Lifecycle) -> None:
    case_id = life.auditing(Level.GOLD)
    first, second = life.app.get_case(case_id).expert_ids
    _submit(life, case_id, first, report="first view")
    _submit(life, case_id, second, report="second view", fraction=0.5)
    case = life.app.get_case(case_id)
    assert case.assessment_version == 2 and case.signed_by == [second] and case.state is CaseState.AUDITING
    assert case.draft_report == "second view" and case.recommended_level is Level.BRONZE
    _sign(life, case_id, first)
    assert life.app.get_case(case_id).state is CaseState.DECIDING


def test_a_signature_naming_an_older_version_is_refused(life: Lifecycle) -> None:
    case_id = life.auditing(Level.GOLD)
    first, second = life.app.get_case(case_id).expert_ids
    _submit(life, case_id, first)
    _submit(life, case_id, first, report="corrected")
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match="the current version is 2"):
        _sign(life, case_id, second, version=1)
    assert event_count(life.app) == before
    _sign(life, case_id, second, version=2)
    assert life.app.get_case(case_id).state is CaseState.DECIDING


def test_a_bronze_expert_signs_by_submitting_and_the_case_moves_to_decision(life: Lifecycle) -> None:
    case_id = life.auditing()
    (expert,) = life.app.get_case(case_id).expert_ids
    _submit(life, case_id, expert)
    case = life.app.get_case(case_id)
    assert case.state is CaseState.DECIDING and case.signed_by == [expert]
    with pytest.raises(StepNotAllowed, match="cannot sign the assessment: the case is deciding"):
        _sign(life, case_id, expert)


def test_a_version_set_aside_by_a_team_change_awaits_no_signature_and_nothing_is_recorded(life: Lifecycle) -> None:
    """A Gold case whose first version was submitted, then one of its experts released and the seat filled:
    the new team submits again; until then nobody signs the old version (it was set aside)."""
    case_id = life.auditing(Level.GOLD)
    first, second = life.app.get_case(case_id).expert_ids
    _submit(life, case_id, first)
    send(life.app, case_id, ReleaseExpert(expert_id=second, reason="certification revoked"), actor=SECRETARIAT)
    life.staff(case_id)
    send(life.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
    for expert_id in life.app.get_case(case_id).expert_ids:
        before = event_count(life.app)
        with pytest.raises(StepNotAllowed, match="no version of it awaits signatures"):
            _sign(life, case_id, expert_id)
        assert event_count(life.app) == before
    _submit(life, case_id, first, report="second version")
    assert life.app.get_case(case_id).assessment_version == 2
