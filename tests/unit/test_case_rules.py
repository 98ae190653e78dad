"""The case's state machine as pure functions: the state each event leads to and the deadline
each state works against. The aggregate and the case status view both call these."""

from __future__ import annotations

import pytest

from clusterlabel.domain.case_lifecycle import (
    DEADLINE_STEP_BY_STATE,
    OPEN_STATES,
    CaseState,
    case_state_after,
    deadline_step,
)
from clusterlabel.domain.certification_case import CertificationCase


@pytest.mark.parametrize(
    ("state", "step"),
    [(CaseState.SCREENING, "screening"), (CaseState.AUDITING, "audit"), (CaseState.DECIDING, "decision")],
)
def test_each_open_state_but_assigning_always_works_against_its_own_deadline(state: CaseState, step: str) -> None:
    assert deadline_step(state, proposal_pending=False) == deadline_step(state, proposal_pending=True) == step


def test_an_assigning_case_works_against_the_response_deadline_only_while_a_proposal_is_pending() -> None:
    assert deadline_step(CaseState.ASSIGNING, proposal_pending=True) == "response"
    assert deadline_step(CaseState.ASSIGNING, proposal_pending=False) is None


def test_an_assigning_case_with_its_team_complete_works_against_the_clusters_agreement_while_it_is_pending() -> None:
    assert deadline_step(CaseState.ASSIGNING, proposal_pending=False, agreement_pending=True) == "agreement"
    assert deadline_step("assigning", proposal_pending=False, agreement_pending=True) == "agreement"
    assert deadline_step(CaseState.AUDITING, proposal_pending=False, agreement_pending=True) == "audit"


@pytest.mark.parametrize("state", sorted(set(CaseState) - OPEN_STATES))
def test_a_closed_or_refused_case_works_against_no_deadline(state: CaseState) -> None:
    assert deadline_step(state, proposal_pending=True) is None


def test_only_open_states_have_a_deadline_and_the_view_s_plain_text_finds_them() -> None:
    assert set(DEADLINE_STEP_BY_STATE) == OPEN_STATES
    assert deadline_step("auditing", proposal_pending=False) == "audit"


def test_screening_leads_to_assigning_or_to_rejected() -> None:
    assert case_state_after("Screened", {"accepted": True}) is CaseState.ASSIGNING
    assert case_state_after("Screened", {"accepted": False}) is CaseState.REJECTED


def test_a_decision_leads_to_awarded_or_refused_and_an_upheld_appeal_back_to_deciding() -> None:
    assert case_state_after("DecisionRecorded", {"outcome": "award"}) is CaseState.AWARDED
    assert case_state_after("DecisionRecorded", {"outcome": "refuse"}) is CaseState.REFUSED
    assert case_state_after("AppealDecided", {"upheld": True}) is CaseState.DECIDING
    assert case_state_after("AppealDecided", {"upheld": False}) is None


@pytest.mark.parametrize(
    ("event_type", "state"),
    [
        ("ClusterAgreedToExperts", CaseState.AUDITING),
        ("ReportSubmitted", CaseState.DECIDING),
        ("Withdrawn", CaseState.WITHDRAWN),
    ],
)
def test_agreement_report_and_withdrawal_each_lead_to_their_state(event_type: str, state: CaseState) -> None:
    assert case_state_after(event_type, {}) is state


@pytest.mark.parametrize(
    "event_type",
    [
        "ExpertProposed",
        "ExpertAccepted",
        "ExpertDeclined",
        "ExpertResponseTimedOut",
        "Escalated",
        "ClusterObjectedToExperts",
        "AuditScheduled",
        "AssessmentSubmitted",
        "AppealLodged",
        "LabelIssued",
    ],
)
def test_events_inside_a_state_leave_it_alone(event_type: str) -> None:
    assert hasattr(CertificationCase, event_type)
    assert case_state_after(event_type, {}) is None
