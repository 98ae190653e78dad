"""An instant: a timezone-aware point in time within the range this engine can compute with.

Every date a caller sends goes through `Instant`. A naive datetime means a different moment on every
machine; a year like 9999 or 0001 overflows as soon as it is moved to UTC or has a policy duration
added. Both used to be accepted and then broke every later read of the record, so they are refused at
the boundary (a 422 naming the field) and what is kept is always UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# Labels run for years and are renewable for years more: 2200 leaves room for any sum of policy
# durations without getting near datetime's own limit (9999).
LATEST = datetime(2200, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


def in_range_utc(value: datetime) -> datetime:
    """The same instant in UTC; ValueError (pydantic makes it a 422) when outside EARLIEST..LATEST."""
    # Check the local fields first: astimezone() itself overflows near year 1 and year 9999.
    if not EARLIEST.year <= value.year <= LATEST.year or not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
    return value.astimezone(UTC)


# What the API's schema declares: RFC 3339 with its offset, in years that are inside the range whatever
# the offset (1971 to 2199), and seconds up to 59 (a leap second's 60 is not a time Python keeps).
DECLARED = (
    r"^(197[1-9]|19[89][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)

# Aware (AwareDatetime refuses a naive one), in range, and normalised to UTC.
Instant = Annotated[AwareDatetime, AfterValidator(in_range_utc), Field(json_schema_extra={"pattern": DECLARED})]
