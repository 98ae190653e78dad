"""The gap of 18 to 24 months between the Bronze benchmarking and the Silver one counts in calendar days, both ends
included, as its refusal names them; a gap compressed to hours or seconds counts to the instant. It counts from
the Bronze round's audit, the day the cluster was benchmarked, not from the day its assessment was submitted."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from clusterlabel.domain.base import InvalidInput, Level
from clusterlabel.domain.case_assessment import check_silver_gap
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.commands import (
    CloseCase,
    IssueLabel,
    RecordAgreement,
    RecordAuditHeld,
    ScheduleAudit,
    Screen,
    SubmitApplication,
)
from clusterlabel.domain.durations import Duration
from clusterlabel.domain.policy import Policy, default_policy
from tests.builders import described_areas, send
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, event_count, memory_app

BRONZE = datetime(2024, 3, 10, 14, 0, tzinfo=UTC)  # 18 months on: 10 September 2025; 24 months: 10 March 2026
RANGE = "between 2025-09-10 and 2026-03-10"


def check(at: datetime, policy: Policy | None = None) -> None:
    check_silver_gap("Baltic Marine Cluster", BRONZE, policy or default_policy(), at, "interview")


@pytest.mark.parametrize(
    "at",
    [
        datetime(2025, 9, 10, 0, 0, tzinfo=UTC),  # the first day, hours before the Bronze one's time of day
        datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC),  # the last day, hours after it
    ],
)
def test_any_hour_of_the_first_and_the_last_day_is_inside_the_gap(at: datetime) -> None:
    check(at)


@pytest.mark.parametrize(
    "at",
    [
        datetime(2025, 9, 9, 23, 59, 59, tzinfo=UTC),  # the day before the first
        datetime(2026, 3, 11, 0, 0, tzinfo=UTC),  # the day after the last
    ],
)
def test_the_days_either_side_are_refused_naming_the_days_that_are_inside(at: datetime) -> None:
    with pytest.raises(
        InvalidInput, match=f"must come P18M to P24M after the Bronze benchmarking of 2024-03-10: {RANGE}$"
    ):
        check(at)


def test_a_gap_of_hours_counts_to_the_instant_and_says_so() -> None:
    compressed = default_policy().model_copy(
        update={"silver_min_gap": Duration.parse("PT1S"), "silver_max_gap": Duration.parse("PT1H")}
    )
    check(datetime(2024, 3, 10, 15, 0, tzinfo=UTC), compressed)
    with pytest.raises(InvalidInput, match=r"between 2024-03-10 14:00:01 UTC and 2024-03-10 15:00:00 UTC$"):
        check(datetime(2024, 3, 10, 15, 0, 1, tzinfo=UTC), compressed)  # the same day, a second too late


# ---- measured from the Bronze round's audit ---------------------------------------------------------------

AREAS = sorted(load_catalogue("gold-2020").codes()[:3])
BRONZE_AUDIT = datetime(2026, 3, 11, 9, tzinfo=UTC)  # the interview; 18 months on: 11 September 2027
BRONZE_SUBMITTED = datetime(2026, 6, 1, 9, tzinfo=UTC)  # the assessment, written up and submitted after it
FROM_THE_AUDIT = "after the Bronze benchmarking of 2026-03-11: between 2027-09-11 and 2028-03-11$"


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 10, 9, tzinfo=UTC))


@pytest.fixture
def life(clock: Clock) -> Lifecycle:
    """A cluster whose Bronze round was audited on 11 March 2026 and assessed, awarded and closed on 1 June."""
    life = Lifecycle(memory_app(clock=clock))
    bronze = life.auditing(Level.BRONZE)
    send(life.app, bronze, ScheduleAudit(audit_date=BRONZE_AUDIT, place="Vilnius"), actor=SECRETARIAT)
    clock.now = BRONZE_AUDIT
    send(life.app, bronze, RecordAuditHeld(), actor=SECRETARIAT)
    clock.now = BRONZE_SUBMITTED
    life.assess(bronze)
    life.decide(bronze)
    send(life.app, bronze, IssueLabel(), actor="system")
    send(life.app, bronze, CloseCase(), actor="system")
    return life


def apply_for_silver(life: Lifecycle) -> UUID:
    application = SubmitApplication(
        cluster_id=life.cluster_id, level=Level.SILVER, improvement_areas=described_areas(AREAS)
    )
    return send(life.app, life.cluster_id, application, actor=SECRETARIAT).id


def test_the_cluster_dates_a_closed_round_by_its_audit_and_a_round_without_one_by_its_assessment(
    life: Lifecycle, clock: Clock
) -> None:
    bronze = life.app.get_cluster(life.cluster_id).last_round(Level.BRONZE)
    assert bronze is not None
    assert (bronze["benchmarked_at"], bronze["assessed_at"]) == (BRONZE_AUDIT, BRONZE_SUBMITTED)
    clock.now = datetime(2027, 10, 1, 9, tzinfo=UTC)
    unaudited, _ = life.labelled(Level.GOLD)  # assessed with no audit date recorded
    gold = life.app.get_cluster(life.cluster_id).last_round(Level.GOLD)
    assert gold is not None and gold["case_id"] == unaudited
    assert gold["benchmarked_at"] == gold["assessed_at"] == life.app.get_case(unaudited).assessed_at


def test_a_silver_application_18_months_after_the_bronze_audit_is_accepted_though_its_report_came_later(
    life: Lifecycle, clock: Clock
) -> None:
    clock.now = datetime(2027, 9, 20, 9, tzinfo=UTC)  # 18 months and 9 days after the audit, 15.6 after the report
    case_id = apply_for_silver(life)
    assert life.app.get_case(case_id).level is Level.SILVER


def test_a_silver_application_before_18_months_after_the_bronze_audit_is_refused_naming_the_audit_day(
    life: Lifecycle, clock: Clock
) -> None:
    clock.now = datetime(2027, 9, 10, 9, tzinfo=UTC)  # the day before the first
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match=f"a Silver application must come P18M to P24M {FROM_THE_AUDIT}"):
        apply_for_silver(life)
    assert event_count(life.app) == before


def test_a_silver_interview_26_months_after_the_bronze_audit_is_refused_though_23_after_its_report(
    life: Lifecycle, clock: Clock
) -> None:
    clock.now = datetime(2028, 1, 10, 9, tzinfo=UTC)  # applying 22 months after the audit: inside the gap
    case_id = apply_for_silver(life)
    send(life.app, case_id, Screen(accepted=True, reason="complete"), actor=SECRETARIAT)
    clock.now = datetime(2028, 3, 1, 9, tzinfo=UTC)
    life.staff(case_id)
    send(life.app, case_id, RecordAgreement(agreed=True), actor=SECRETARIAT)
    interview = ScheduleAudit(audit_date=datetime(2028, 5, 15, 9, tzinfo=UTC), place="Vilnius")
    before = event_count(life.app)
    with pytest.raises(InvalidInput, match=f"a Silver interview must come P18M to P24M {FROM_THE_AUDIT}"):
        send(life.app, case_id, interview, actor=SECRETARIAT)
    assert event_count(life.app) == before
