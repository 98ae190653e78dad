"""The report states the decision that stands (CertificationCase.decision_in_force): an upheld appeal
overturns the decision it was lodged against, so the report states none until the case is decided again,
then the new decision, taken on appeal; a case withdrawn meanwhile keeps none. No PDF is frozen as the
record of an overturned decision."""

from __future__ import annotations

from uuid import UUID

import pytest

from clusterlabel.domain.base import Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseState, Outcome
from clusterlabel.domain.commands import (
    DecideAppeal,
    FreezeReport,
    IssueLabel,
    LodgeAppeal,
    OpenAppealWindow,
    RecordDecision,
    WithdrawCase,
)
from tests.builders import send
from tests.lifecycle import SECRETARIAT, Lifecycle
from tests.unit.test_report_awarded_level import report_of

PANEL = "board:appeals"
SECOND_DECIDER = "secretariat:greta"
DIGEST = "ab" * 32


def _refusal_overturned(life: Lifecycle) -> UUID:
    """A Bronze case refused, appealed by the cluster, and the appeal upheld: deciding again."""
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    send(life.app, case_id, LodgeAppeal(grounds="the scores support Bronze"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="they do"), actor=PANEL)
    assert life.app.get_case(case_id).state is CaseState.DECIDING
    return case_id


def test_a_refusal_overturned_on_appeal_is_reported_as_no_decision_then_as_the_award_taken_on_appeal(
    life: Lifecycle,
) -> None:
    case_id = _refusal_overturned(life)
    report = report_of(life, case_id)
    assert (report["outcome"], report["awarded_level"], report["decided_at"]) == (None, None, None)
    assert report["decided_on_appeal"] is False

    award = RecordDecision(outcome=Outcome.AWARD, rationale="on appeal: the scores support Bronze")
    send(life.app, case_id, award, actor=SECOND_DECIDER)

    report = report_of(life, case_id)
    assert (report["outcome"], report["awarded_level"], report["decided_on_appeal"]) == ("award", "bronze", True)


def test_a_first_decision_is_not_reported_as_taken_on_appeal(life: Lifecycle) -> None:
    report = report_of(life, life.awarded())
    assert (report["outcome"], report["decided_on_appeal"]) == ("award", False)


def test_a_case_withdrawn_after_an_upheld_appeal_reports_no_decision_not_the_overturned_one(life: Lifecycle) -> None:
    # A Gold application awarded Silver, its appeal upheld, then withdrawn before it is decided again.
    case_id = life.deciding(Level.GOLD, fraction=1.0)
    life.decide(case_id, Outcome.AWARD, Level.SILVER)
    send(life.app, case_id, IssueLabel(), actor="system")
    send(life.app, case_id, OpenAppealWindow(), actor="system")
    send(life.app, case_id, LodgeAppeal(grounds="the assessment supports Gold"), actor=SECRETARIAT)
    send(life.app, case_id, DecideAppeal(upheld=True, rationale="it does"), actor=PANEL)
    send(life.app, case_id, WithdrawCase(reason="The cluster withdrew its application."), actor=SECRETARIAT)

    case = life.app.get_case(case_id)
    assert case.state is CaseState.WITHDRAWN and case.decision is not None  # kept, as its history keeps it
    assert case.decision_in_force is None
    report = report_of(life, case_id)
    assert (report["outcome"], report["awarded_level"], report["label_code"]) == (None, None, None)


def test_no_report_is_frozen_for_a_decision_an_upheld_appeal_overturned(life: Lifecycle) -> None:
    case_id = _refusal_overturned(life)
    with pytest.raises(StepNotAllowed, match="an upheld appeal overturned it"):
        send(life.app, case_id, FreezeReport(sha256=DIGEST, size=1), actor="system:report")
    assert life.app.get_case(case_id).frozen_report is None

    award = RecordDecision(outcome=Outcome.AWARD, rationale="on appeal")
    send(life.app, case_id, award, actor=SECOND_DECIDER)
    send(life.app, case_id, FreezeReport(sha256=DIGEST, size=1), actor="system:report")
    case = life.app.get_case(case_id)
    assert case.frozen_report is not None and case.decision is not None
    assert case.frozen_report["decided_at"] == case.decision["at"]
