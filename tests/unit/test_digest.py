"""The digest's rules: which period an instant falls in, how far ahead it looks, and no message without news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from clusterlabel.domain.digest import (
    MOST_LISTED,
    DigestFacts,
    ExpiringLabel,
    OverdueCase,
    SendDigest,
    digest_notices,
    digest_period,
    reminder_horizon,
)
from clusterlabel.domain.policy import default_policy
from clusterlabel.interfaces.settings import Settings

DAY, SEVEN = timedelta(days=1), timedelta(hours=7)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_every_run_of_one_day_shares_the_period_that_began_at_the_digest_s_hour() -> None:
    assert digest_period(at("2026-11-30T07:00:00"), DAY, SEVEN) == at("2026-11-30T07:00:00")
    assert digest_period(at("2026-11-30T23:59:59"), DAY, SEVEN) == at("2026-11-30T07:00:00")
    assert digest_period(at("2026-12-01T06:59:59"), DAY, SEVEN) == at("2026-11-30T07:00:00")
    assert digest_period(at("2026-12-01T07:00:00"), DAY, SEVEN) == at("2026-12-01T07:00:00")


def test_the_digest_looks_as_far_ahead_as_the_earliest_expiry_reminder() -> None:
    now = at("2026-11-30T00:00:00")

    assert reminder_horizon(default_policy(), now) == timedelta(days=90)  # reminders P90D, P30D, P7D
    assert reminder_horizon(default_policy().with_overrides({"expiry_reminders": []}), now) == timedelta(0)


def test_a_period_with_nothing_to_report_has_no_digest() -> None:
    assert digest_notices(SendDigest(period=at("2026-11-30T07:00:00"), facts=DigestFacts())) == []


def test_the_digest_to_the_secretariat_counts_each_list_and_cuts_a_long_one() -> None:
    overdue = [OverdueCase(case_id=uuid4(), cluster_name="Baltic", deadline="audit", due_at=at("2026-11-29T10:00:00"))]
    expiring = [
        ExpiringLabel(
            label_id=uuid4(), label_code=f"ECEI-B-{n:04}", cluster_name="Nordic", valid_until=at("2027-01-01T00:00:00")
        )
        for n in range(MOST_LISTED + 2)
    ]
    facts = DigestFacts(overdue=overdue, expiring=expiring)

    [notice] = digest_notices(SendDigest(period=at("2026-11-30T07:00:00"), facts=facts))

    assert notice.recipient == "secretariat" and notice.kind == "digest"
    assert notice.subject == "Digest for 2026-11-30: 1 overdue, 52 expiring, 0 undelivered"
    assert f"case {overdue[0].case_id} (Baltic): audit was due 2026-11-29 10:00 UTC" in notice.body
    assert "Labels expiring soon (52):" in notice.body and "- and 2 more" in notice.body
    assert "- ECEI-B-0000 (Nordic) valid until 2026-12-31\n" in notice.body  # its last day, not 1 January 00:00
    assert "Messages not delivered" not in notice.body


def test_the_digest_s_hour_is_a_setting_that_must_fall_inside_its_period() -> None:
    settings = Settings(digest_every="PT12H", digest_at="3600")

    assert (settings.digest_every, settings.digest_at) == (timedelta(hours=12), timedelta(hours=1))
    with pytest.raises(ValidationError, match="digest_at"):
        Settings(digest_every="P1D", digest_at="P1D")
