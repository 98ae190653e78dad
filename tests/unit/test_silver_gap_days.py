"""The gap of 18 to 24 months between the Bronze benchmarking and the Silver one counts in calendar days, both ends
included, as its refusal names them; a gap compressed to hours or seconds counts to the instant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clusterlabel.domain.base import InvalidInput
from clusterlabel.domain.case_assessment import check_silver_gap
from clusterlabel.domain.durations import Duration
from clusterlabel.domain.policy import Policy, default_policy

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
        InvalidInput, match=f"must come P18M to P24M after the Bronze assessment of 2024-03-10: {RANGE}$"
    ):
        check(at)


def test_a_gap_of_hours_counts_to_the_instant_and_says_so() -> None:
    compressed = default_policy().model_copy(
        update={"silver_min_gap": Duration.parse("PT1S"), "silver_max_gap": Duration.parse("PT1H")}
    )
    check(datetime(2024, 3, 10, 15, 0, tzinfo=UTC), compressed)
    with pytest.raises(InvalidInput, match=r"between 2024-03-10 14:00:01 UTC and 2024-03-10 15:00:00 UTC$"):
        check(datetime(2024, 3, 10, 15, 0, 1, tzinfo=UTC), compressed)  # the same day, a second too late
