"""Until a case is decided its assessment is read by the secretariat and the case's team alone: the
cluster's contact, an expert only proposed for the case, and an account that is both a contact and an
expert on another case read the case and its history without it (interfaces/web/common.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from clusterlabel.domain.account import Role
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.common import for_the_reader, history_events
from clusterlabel.interfaces.web.schemas import CaseOut
from clusterlabel.projections.audit_history import AuditEntry
from tests.builders import audit_entry

AT = datetime(2026, 5, 4, 9, tzinfo=UTC)
CASE, CLUSTER, ON_THE_TEAM, PROPOSED = uuid4(), uuid4(), uuid4(), uuid4()
SECRETARIAT = Principal(frozenset({Role.OFFICER}))
TEAM_EXPERT = Principal(frozenset({Role.EXPERT}), expert_id=ON_THE_TEAM)
PROPOSED_EXPERT = Principal(frozenset({Role.EXPERT}), expert_id=PROPOSED)
CONTACT = Principal(frozenset({Role.CLUSTER}), cluster_id=CLUSTER)
CONTACT_AND_EXPERT_ELSEWHERE = Principal(frozenset({Role.CLUSTER, Role.EXPERT}), expert_id=uuid4(), cluster_id=CLUSTER)
KEPT_FROM = [PROPOSED_EXPERT, CONTACT, CONTACT_AND_EXPERT_ELSEWHERE]


def _case() -> CaseOut:
    return CaseOut.model_validate(
        {
            "case_id": CASE,
            "cluster_id": CLUSTER,
            "kind": "initial",
            "level": "gold",
            "state": "deciding",
            "catalogue_version": "gold-2020",
            "expert_ids": [ON_THE_TEAM, uuid4()],
            "proposed_expert_id": None,
            "recommended_level": "silver",
            "label_id": None,
            "deadlines": {},
            "needs_attention": False,
            "attention": [],
            "submitted_at": AT,
            "version": 9,
            "assessment_version": 1,
            "signed_by": [ON_THE_TEAM],
        }
    )


def _entry(seq: int, event_type: str, data: dict[str, Any]) -> AuditEntry:
    return audit_entry(seq, ("CertificationCase", CASE), event_type, data, "system", AT)


HISTORY = [_entry(1, "Submitted", {"level": "gold"}), _entry(2, "AssessmentSubmitted", {"recommended_level": "silver"})]


@pytest.mark.parametrize("reader", [SECRETARIAT, TEAM_EXPERT])
def test_the_secretariat_and_the_team_read_the_assessment_before_the_decision(reader: Principal) -> None:
    shown = for_the_reader(_case(), decided=False, principal=reader)
    assert shown.recommended_level == "silver" and shown.signed_by == [ON_THE_TEAM]
    assert history_events(HISTORY, reader, [CASE])[1].data == {"recommended_level": "silver"}


@pytest.mark.parametrize("reader", KEPT_FROM)
def test_anyone_else_reads_the_case_without_its_assessment_until_it_is_decided(reader: Principal) -> None:
    shown = for_the_reader(_case(), decided=False, principal=reader)
    assert shown.recommended_level is None and shown.signed_by == [] and shown.silver_validation is None
    assert shown.state == "deciding" and shown.assessment_version == 1  # that there is one is no secret
    events = history_events(HISTORY, reader)  # on no case's team, as a cluster's history says of them
    assert [(event.type, event.data) for event in events] == [
        ("Submitted", {"level": "gold"}),
        ("AssessmentSubmitted", {}),
    ]


@pytest.mark.parametrize("reader", KEPT_FROM)
def test_once_decided_every_reader_of_the_case_reads_its_assessment(reader: Principal) -> None:
    assert for_the_reader(_case(), decided=True, principal=reader).recommended_level == "silver"
    decided = [*HISTORY, _entry(3, "DecisionRecorded", {"outcome": "award"})]
    assert history_events(decided, reader)[1].data == {"recommended_level": "silver"}


def test_in_a_history_an_expert_reads_the_assessment_of_the_cases_whose_team_they_sit_on_alone() -> None:
    """A cluster's history holds the expert's cases: the one they audit in full, the one they are only
    proposed for as the cluster reads it; a record not named fails closed."""
    other_case = uuid4()
    history = [
        *HISTORY,
        _entry(3, "AssessmentSubmitted", {"recommended_level": "gold"}).model_copy(update={"aggregate_id": other_case}),
    ]
    events = history_events(history, TEAM_EXPERT, [CASE])
    assert [event.data for event in events if event.type == "AssessmentSubmitted"] == [
        {"recommended_level": "silver"},
        {},
    ]
    assert [event.data for event in history_events(history, TEAM_EXPERT) if event.type == "AssessmentSubmitted"] == [
        {},
        {},
    ]


ESCALATION = "proposing an expert was refused 5 times: expert 1b2c cannot be proposed: a conflict of interest"


@pytest.mark.parametrize("reader", [SECRETARIAT, TEAM_EXPERT])
def test_the_secretariat_and_the_team_read_why_the_case_needs_attention(reader: Principal) -> None:
    escalated = _case().model_copy(update={"needs_attention": True, "attention": [ESCALATION]})
    assert for_the_reader(escalated, decided=True, principal=reader).attention == [ESCALATION]
    history = [_entry(1, "Escalated", {"reason": ESCALATION})]
    assert history_events(history, reader, [CASE])[0].data == {"reason": ESCALATION}


@pytest.mark.parametrize("reader", KEPT_FROM)
def test_anyone_else_reads_that_the_case_needs_attention_but_not_why(reader: Principal) -> None:
    """The notes may name experts and why they may not serve: the secretariat's, not the cluster's."""
    escalated = _case().model_copy(update={"needs_attention": True, "attention": [ESCALATION]})
    shown = for_the_reader(escalated, decided=True, principal=reader)  # decided: the assessment is theirs
    assert shown.needs_attention and shown.attention == [] and shown.recommended_level == "silver"
    history = history_events([_entry(1, "Escalated", {"reason": ESCALATION})], reader)
    assert [(event.type, event.data) for event in history] == [("Escalated", {})]
