"""The audit's interview or visit: scheduled before the audit deadline while the team is certified, held
(as its expert records), and the month it was held is where the label's validity starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from clusterlabel.domain.base import DomainError, ImpartialityViolation, InvalidInput, Level, StepNotAllowed
from clusterlabel.domain.case_lifecycle import CaseKind
from clusterlabel.domain.case_visit import visit_duration
from clusterlabel.domain.commands import (
    IssueLabel,
    RecordAgreement,
    RecordAuditHeld,
    ScheduleAudit,
)
from clusterlabel.domain.fees import AuditMode
from clusterlabel.domain.label import Label
from tests.builders import T0, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count, memory_app

ON_SITE = {"place": "the cluster office"}


def agreed(
    mode: AuditMode = AuditMode.ON_SITE, certified_until: datetime | None = None
) -> tuple[Lifecycle, Clock, UUID]:
    """A Bronze case whose cluster agreed (at T0) to its one expert, for an audit held as `mode`."""
    clock = Clock()
    life = Lifecycle(memory_app(clock=clock))
    if certified_until is not None:
        life.expert("LT", name="Vida Vaitkute", certified_until=certified_until)
    case_id = life.screened()
    life.staff(case_id)
    send(life.app, case_id, RecordAgreement(agreed=True, audit_mode=mode), actor=SECRETARIAT)
    return life, clock, case_id


def schedule(life: Lifecycle, case_id: UUID, days: float, **visit: object) -> None:
    send(life.app, case_id, ScheduleAudit(audit_date=T0 + timedelta(days=days), **visit), actor=SECRETARIAT)


def held(life: Lifecycle, case_id: UUID, held_on: datetime | None = None, expert_id: UUID | None = None) -> None:
    expert = expert_id or life.app.get_case(case_id).expert_ids[0]
    send(life.app, case_id, RecordAuditHeld(expert_id=expert, held_on=held_on), actor=f"expert:{expert}")


def refused(life: Lifecycle, error: type[DomainError], match: str, step: object) -> None:
    """The step is refused with `error` saying `match`, and nothing is recorded."""
    before = event_count(life.app)
    with pytest.raises(error, match=match):
        step()  # type: ignore[operator]
    assert event_count(life.app) == before


def label_of(life: Lifecycle, case_id: UUID) -> Label:
    life.decide(case_id)
    case = send(life.app, case_id, IssueLabel(), actor="system")
    assert case.label_id is not None  # type: ignore[attr-defined]
    return life.app.get_label(case.label_id)  # type: ignore[attr-defined]


# ---- scheduling ----------------------------------------------------------------------------------


def test_the_visit_takes_the_agreed_mode_and_keeps_its_place_and_duration() -> None:
    life, _, case_id = agreed(AuditMode.VIDEO)

    schedule(life, case_id, 5, duration="PT3H")

    case = life.app.get_case(case_id)
    assert case.audit_date == T0 + timedelta(days=5)
    assert case.visit == {"mode": "video", "place": "", "duration": "PT3H"}


def test_an_audit_on_site_needs_its_place() -> None:
    life, _, case_id = agreed()

    refused(life, InvalidInput, "needs its place", lambda: schedule(life, case_id, 5))
    schedule(life, case_id, 5, place="Klaipeda harbour", duration="P2D")

    assert life.app.get_case(case_id).visit == {"mode": "on_site", "place": "Klaipeda harbour", "duration": "P2D"}


def test_a_visit_cannot_be_held_another_way_than_the_cluster_agreed_to() -> None:
    life, _, case_id = agreed(AuditMode.VIDEO)

    refused(
        life, InvalidInput, "agreed to an audit by video", lambda: schedule(life, case_id, 5, mode="on_site", **ON_SITE)
    )


def test_an_audit_date_at_or_past_the_audit_deadline_is_refused_naming_it() -> None:
    life, _, case_id = agreed()
    due = life.app.get_case(case_id).deadlines["audit"]

    refused(
        life, InvalidInput, f"before its deadline of {due:%Y-%m-%d}", lambda: schedule(life, case_id, 90, **ON_SITE)
    )
    schedule(life, case_id, 89, **ON_SITE)


def test_an_audit_date_past_a_team_experts_certification_is_refused_naming_the_expert() -> None:
    life, _, case_id = agreed(certified_until=T0 + timedelta(days=30))

    refused(
        life,
        InvalidInput,
        "certification of Vida Vaitkute is no longer valid",
        lambda: schedule(life, case_id, 30, **ON_SITE),
    )
    schedule(life, case_id, 29, **ON_SITE)


@pytest.mark.parametrize("duration", ["PT0H", "PT25H", "P6D", "P1W", "PT30M", "3 hours"])
def test_a_visit_lasts_whole_hours_up_to_a_day_or_whole_days_up_to_five(duration: str) -> None:
    with pytest.raises(ValidationError, match="duration"):
        ScheduleAudit(audit_date=T0, place="here", duration=duration)


def test_scheduling_is_refused_out_of_turn() -> None:
    life = Lifecycle(memory_app())
    assigning = life.screened()

    refused(life, StepNotAllowed, "is assigning", lambda: schedule(life, assigning, 5, **ON_SITE))
    refused(life, StepNotAllowed, "is assigning", lambda: held(life, assigning, T0, uuid4()))


# ---- the audit held ------------------------------------------------------------------------------


def test_the_assessment_waits_until_the_audit_scheduled_ahead_is_held() -> None:
    life, clock, case_id = agreed()
    schedule(life, case_id, 10, **ON_SITE)

    refused(life, StepNotAllowed, "has not been held yet", lambda: life.assess(case_id))
    clock.advance(days=3)
    held(life, case_id, held_on=clock.now)  # earlier than planned
    life.assess(case_id)

    case = life.app.get_case(case_id)
    assert case.audit_held_on == clock.now and case.state == "deciding"


def test_an_audit_held_on_a_day_a_team_expert_was_no_longer_certified_is_refused_whoever_records_it() -> None:
    """DOMAIN.md: an expert never audits while their certification has lapsed. The day the audit was held, as
    recorded, is checked as the scheduled one is (before, only the scheduled day was)."""
    life, clock, case_id = agreed(certified_until=T0 + timedelta(days=40))
    schedule(life, case_id, 30, **ON_SITE)
    clock.advance(days=46)
    late = T0 + timedelta(days=45)

    refused(
        life,
        InvalidInput,
        "certification of Vida Vaitkute is no longer valid",
        lambda: send(life.app, case_id, RecordAuditHeld(held_on=late), actor=SECRETARIAT),  # an officer for the team
    )
    send(life.app, case_id, RecordAuditHeld(held_on=T0 + timedelta(days=32)), actor=SECRETARIAT)
    assert life.app.get_case(case_id).audit_held_on == T0 + timedelta(days=32)


def test_the_audit_is_held_on_its_scheduled_date_unless_the_expert_says_otherwise() -> None:
    life, clock, case_id = agreed()
    schedule(life, case_id, 10, **ON_SITE)
    clock.advance(days=12)

    held(life, case_id)

    assert life.app.get_case(case_id).audit_held_on == T0 + timedelta(days=10)


def test_a_holding_is_refused_in_the_future_before_the_agreement_unscheduled_or_twice() -> None:
    life, clock, case_id = agreed()
    refused(life, StepNotAllowed, "no audit is scheduled", lambda: held(life, case_id, held_on=T0))
    schedule(life, case_id, 10, **ON_SITE)

    refused(life, InvalidInput, "still ahead", lambda: held(life, case_id))
    clock.advance(days=11)
    refused(
        life, InvalidInput, "before the cluster agreed", lambda: held(life, case_id, held_on=T0 - timedelta(days=1))
    )
    held(life, case_id)
    refused(life, StepNotAllowed, "was held on", lambda: held(life, case_id))
    refused(life, StepNotAllowed, "was held on", lambda: schedule(life, case_id, 20, **ON_SITE))


def test_an_audit_date_before_the_agreement_is_refused_and_the_agreement_day_itself_is_taken() -> None:
    """A year mistyped (2025 for 2026) would count as held at once, and issue a label expired from the start."""
    life, _clock, case_id = agreed()
    a_year_early = T0 - timedelta(days=365)
    refused(
        life,
        InvalidInput,
        "cannot be scheduled on 2025-03-10, before the cluster agreed on 2026-03-10",
        lambda: send(life.app, case_id, ScheduleAudit(audit_date=a_year_early, **ON_SITE), actor=SECRETARIAT),
    )
    schedule(life, case_id, -0.3, **ON_SITE)  # earlier the same day: the interview was that morning

    assert life.app.get_case(case_id).audit_date == T0 - timedelta(days=0.3)


def test_only_an_expert_of_the_team_records_the_holding() -> None:
    life, clock, case_id = agreed()
    schedule(life, case_id, 10, **ON_SITE)
    clock.advance(days=11)

    refused(life, ImpartialityViolation, "not assigned", lambda: held(life, case_id, expert_id=uuid4()))


def test_the_holding_is_refused_out_of_turn() -> None:
    life, clock, case_id = agreed()
    schedule(life, case_id, 10, **ON_SITE)
    clock.advance(days=11)
    life.assess(case_id)  # the scheduled date is past: the assessment counts it as held

    refused(life, StepNotAllowed, "is deciding", lambda: held(life, case_id))


# ---- the label's validity ------------------------------------------------------------------------


def test_the_label_counts_its_validity_from_the_month_the_audit_was_held() -> None:
    life, clock, case_id = agreed()  # 10 March 2026
    schedule(life, case_id, 18, **ON_SITE)  # 28 March
    clock.advance(days=26)  # 5 April
    held(life, case_id)
    life.assess(case_id)

    label = label_of(life, case_id)

    assert label.valid_until == datetime(2028, 4, 1, tzinfo=UTC)  # two years from the end of March
    assert label.valid_from == clock.now  # never before its decision


def test_an_assessment_without_a_recorded_holding_counts_the_scheduled_date_as_held() -> None:
    life, clock, case_id = agreed()
    schedule(life, case_id, 5, **ON_SITE)  # 15 March
    clock.advance(days=40)  # assessed and decided in April, as a case scheduled before holdings were recorded
    life.assess(case_id)

    assert label_of(life, case_id).valid_until == datetime(2028, 4, 1, tzinfo=UTC)


def test_a_case_assessed_without_an_audit_date_counts_from_its_assessment_month() -> None:
    life, clock, case_id = agreed()
    clock.advance(days=40)  # April
    life.assess(case_id)

    assert label_of(life, case_id).valid_until == datetime(2028, 5, 1, tzinfo=UTC)


def test_an_audit_held_the_day_the_cluster_agreed_counts_whatever_the_hour_given() -> None:
    life, clock, case_id = agreed()
    schedule(life, case_id, 10, **ON_SITE)
    clock.advance(days=11)
    agreement_day = T0.replace(hour=0, minute=0, second=0, microsecond=0)  # the form gives a day: midnight

    held(life, case_id, held_on=agreement_day)

    assert life.app.get_case(case_id).audit_held_on == agreement_day


def a_gold_renewal_agreed(clock: Clock) -> tuple[Lifecycle, UUID]:
    life = Lifecycle(memory_app(clock=clock))
    _, gold = life.labelled(Level.GOLD)
    clock.advance(days=600)
    return life, life.renewal_agreed(gold)


def test_a_gold_renewal_is_a_one_day_visit_by_default_and_at_most() -> None:
    clock = Clock()
    life, renewal = a_gold_renewal_agreed(clock)
    visit = {"audit_date": clock.now + timedelta(days=10), "place": "Vilnius"}

    two_days = ScheduleAudit(**visit, duration="P2D")
    refused(
        life,
        InvalidInput,
        "a Gold renewal is a one-day visit",
        lambda: send(life.app, renewal, two_days, actor=SECRETARIAT),
    )
    send(life.app, renewal, ScheduleAudit(**visit), actor=SECRETARIAT)
    assert life.app.get_case(renewal).visit["duration"] == "P1D"
    send(life.app, renewal, ScheduleAudit(**visit, duration="PT6H"), actor=SECRETARIAT)  # shorter is the team's call
    assert life.app.get_case(renewal).visit["duration"] == "PT6H"


def test_a_first_gold_visit_keeps_the_duration_it_is_given() -> None:
    assert visit_duration(Level.GOLD, CaseKind.INITIAL, "P2D") == "P2D"
    assert visit_duration(Level.GOLD, CaseKind.INITIAL, None) is None  # the calendar blocks the usual two days
