"""An expert's qualifications per level (Bronze, Silver, Gold), each with its own validity and the training
that granted or renewed it; and the check of the case's level at every step the expert takes, not only
when they are proposed (ISO/IEC 17065 §6.1.2)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from clusterlabel.domain.base import InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.commands import (
    AnswerProposal,
    ProposeExpert,
    RecordAuditHeld,
    ScheduleAudit,
    SignAssessment,
    SubmitAssessment,
)
from clusterlabel.domain.expert import Expert
from clusterlabel.domain.record_commands import RecordQualification, RevokeExpertCertification
from tests.builders import T0, expert_profile, full_scores, indicators, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count

SOON = T0 + timedelta(days=20)
LATER = T0 + timedelta(days=3 * 365)


def qualify(life: Lifecycle, expert_id: UUID, level: Level, until: object = LATER, training: str = "course") -> Expert:
    command = RecordQualification(level=level, until=until, training=training)
    expert = send(life.app, expert_id, command, actor=SECRETARIAT)
    assert isinstance(expert, Expert)
    return expert


def test_an_expert_registered_without_levels_is_qualified_for_every_level_until_their_certification_ends() -> None:
    # As every expert registered before qualifications were kept per level reads back.
    profile = expert_profile()
    assert profile.levels == [Level.BRONZE, Level.SILVER, Level.GOLD]
    expert = Expert(profile.model_dump(mode="json"), SECRETARIAT, "k")
    assert all(expert.is_qualified_at(level, profile.certified_until - timedelta(seconds=1)) for level in Level)
    assert not expert.is_qualified_at(Level.GOLD, profile.certified_until)


def test_an_expert_qualified_for_bronze_only_is_not_proposed_for_a_gold_case(life: Lifecycle) -> None:
    bronze_only = life.expert("LT", levels=["bronze"])
    case_id = life.screened(Level.GOLD)
    assert bronze_only not in life.app.eligible_experts(case_id)
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match="holds no gold expert certification"):
        send(life.app, case_id, ProposeExpert(expert_id=bronze_only), actor="system")
    assert event_count(life.app) == before


def test_a_recorded_gold_qualification_makes_the_expert_eligible_and_keeps_its_training(life: Lifecycle) -> None:
    expert_id = life.expert("LT", levels=["bronze"])
    case_id = life.screened(Level.GOLD)
    expert = qualify(life, expert_id, Level.GOLD, training="Gold team assessor course")

    assert expert_id in life.app.eligible_experts(case_id)
    assert expert.trainings == [
        {"level": "gold", "training": "Gold team assessor course", "trained_on": T0, "until": LATER}
    ]
    assert expert.is_qualified_at(Level.GOLD, T0) and expert.is_qualified_at(Level.BRONZE, T0)


def test_a_qualification_that_does_not_run_later_is_refused_and_nothing_is_recorded(life: Lifecycle) -> None:
    expert_id = life.expert()
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match="already qualified for silver until"):
        qualify(life, expert_id, Level.SILVER, until=LATER - timedelta(days=1))
    with pytest.raises(InvalidInput, match="must run beyond its training"):
        qualify(life, expert_id, Level.SILVER, until=T0 - timedelta(days=1))
    assert event_count(life.app) == before


def test_a_renewed_qualification_after_a_revocation_restores_that_level_only(life: Lifecycle) -> None:
    expert_id = life.expert()
    send(life.app, expert_id, RevokeExpertCertification(reason="complaint upheld"), actor=SECRETARIAT)
    expert = qualify(life, expert_id, Level.BRONZE, until=LATER, training="recertification")
    assert expert.is_qualified_at(Level.BRONZE, T0)
    assert not expert.is_qualified_at(Level.GOLD, T0)
    with pytest.raises(StepNotAllowed, match="gold expert certification was revoked"):
        expert.check_qualified(Level.GOLD, T0, "sign an assessment")


def test_an_expert_whose_qualification_ended_after_the_proposal_cannot_accept(life: Lifecycle, clock: Clock) -> None:
    expert_id = life.expert("DE", certified_until=SOON)
    case_id = life.screened()
    send(life.app, case_id, ProposeExpert(expert_id=expert_id), actor="system")
    clock.advance(days=21)
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match=r"bronze expert certification ended on .*accept an assignment"):
        send(life.app, case_id, AnswerProposal(expert_id=expert_id, accept=True), actor=f"expert:{expert_id}")
    assert event_count(life.app) == before


def test_a_team_expert_whose_qualification_ended_cannot_record_the_audit_or_submit(
    life: Lifecycle, clock: Clock
) -> None:
    expert_id = life.expert("DE", certified_until=SOON)
    case_id = life.auditing()
    send(life.app, case_id, ScheduleAudit(audit_date=T0 + timedelta(days=5), place="Klaipėda"), actor=SECRETARIAT)
    clock.advance(days=21)
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match=r"certification ended on .*record the audit as held"):
        send(life.app, case_id, RecordAuditHeld(expert_id=expert_id), actor=f"expert:{expert_id}")
    scores = indicators(full_scores(life.app.get_case(case_id).catalogue_version))
    with pytest.raises(StepNotAllowed, match=r"certification ended on .*submit an assessment"):
        submit = SubmitAssessment(expert_id=expert_id, indicators=scores, report="report")
        send(life.app, case_id, submit, actor=f"expert:{expert_id}")
    assert event_count(life.app) == before
    assert life.app.get_case(case_id).audit_held_on is None


def test_a_gold_team_expert_whose_gold_qualification_ended_cannot_sign(life: Lifecycle, clock: Clock) -> None:
    national = life.expert("LT")
    foreign = life.expert("DE", certified_until=SOON)
    case_id = life.auditing(Level.GOLD)
    assert set(life.app.get_case(case_id).expert_ids) == {national, foreign}
    scores = indicators(full_scores(life.app.get_case(case_id).catalogue_version))
    send(life.app, case_id, SubmitAssessment(expert_id=national, indicators=scores, report="r"), actor="expert:n")
    clock.advance(days=21)
    before = event_count(life.app)
    with pytest.raises(StepNotAllowed, match=r"gold expert certification ended on .*sign an assessment"):
        send(life.app, case_id, SignAssessment(expert_id=foreign), actor=f"expert:{foreign}")
    assert event_count(life.app) == before
    assert life.app.get_case(case_id).signed_by == [national]
