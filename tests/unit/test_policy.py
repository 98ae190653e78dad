"""Policy durations: ISO 8601, calendar-aware, compressible to seconds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from clusterlabel.domain.durations import Duration, InvalidDuration
from clusterlabel.domain.policy import Policy, default_policy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P2Y", Duration(years=2)),
        ("P6M", Duration(months=6)),
        ("P90D", Duration(days=90)),
        ("P2W", Duration(days=14)),
        ("PT30S", Duration(seconds=30)),
        ("PT1.5S", Duration(seconds=1.5)),
        ("P1Y2M3DT4H5M6S", Duration(years=1, months=2, days=3, seconds=4 * 3600 + 5 * 60 + 6)),
    ],
)
def test_iso_durations_are_read_as_written(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize("text", ["", "P", "2Y", "PT", "P1H", "P-1D", "forever"])
def test_anything_else_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(InvalidDuration, match="P2Y"):
        Duration.parse(text)


def test_a_month_after_the_31st_of_january_is_the_end_of_february() -> None:
    assert Duration.parse("P1M").after(datetime(2027, 1, 31, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)
    assert Duration.parse("P2Y").after(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)


def test_the_default_policy_is_the_published_one() -> None:
    policy = default_policy()
    assert str(policy.label_validity) == "P2Y" and str(policy.renewal_window) == "P1Y"
    assert [str(offset) for offset in policy.expiry_reminders] == ["P90D", "P30D", "P7D"]
    assert str(policy.suspension_limit) == "P6M" and policy.rotate_experts


def test_a_policy_file_overrides_only_the_keys_it_names() -> None:
    policy = Policy.from_toml('label_validity = "PT60S"\nexpiry_reminders = ["PT10S", "PT30S"]')
    assert policy.label_validity == Duration(seconds=60)
    assert [str(offset) for offset in policy.expiry_reminders] == ["PT30S", "PT10S"]  # earliest reminder first
    assert policy.renewal_window == default_policy().renewal_window


def test_an_unknown_or_malformed_policy_key_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown policy keys: label_valdity"):
        Policy.from_toml('label_valdity = "P2Y"')
    with pytest.raises(ValidationError, match="not an ISO 8601 duration"):
        Policy.from_toml('appeal_window = "30 days"')


def test_a_compressed_validity_counts_from_the_decision_instant() -> None:
    policy = default_policy().with_overrides({"label_validity": "PT60S"})
    decided = datetime(2026, 3, 10, 9, 0, 5, tzinfo=UTC)
    assert policy.label_validity_from(datetime(2026, 3, 10, 9, tzinfo=UTC), decided) == (
        decided,
        datetime(2026, 3, 10, 9, 1, 5, tzinfo=UTC),
    )
