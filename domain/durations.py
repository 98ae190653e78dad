"""ISO 8601 durations that add to instants the way a calendar does.

Policy durations range from years (label validity) down to seconds (a lifecycle
compressed for a demo or a test), so they keep years and months apart from
fixed-length time: adding "P1M" to 31 January lands on the last day of February.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_PATTERN = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


# The durations an API parameter takes, as its OpenAPI schema declares them (ECMA-262, as JSON Schema
# reads patterns): upper case, and few enough digits that any of them, added to today, stays a date.
BOUNDED_DURATION = (
    r"^P(?!$)(\d{1,3}Y)?(\d{1,4}M)?(\d{1,4}W)?(\d{1,5}D)?"
    r"(T(?=\d)(\d{1,6}H)?(\d{1,7}M)?(\d{1,9}(\.\d{1,6})?S)?)?$"
)


class InvalidDuration(ValueError):
    """A text that is not an ISO 8601 duration such as P2Y, P90D or PT30S."""


@dataclass(frozen=True, order=True)
class Duration:
    """A calendar-aware span: whole years and months, then days and seconds."""

    years: int = 0
    months: int = 0
    days: int = 0
    seconds: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _PATTERN.match(text.strip().upper()) if isinstance(text, str) else None
        if match is None:
            raise InvalidDuration(f"{text!r} is not an ISO 8601 duration (examples: P2Y, P6M, P90D, PT30S)")
        parts = {name: float(value) for name, value in match.groupdict(default="0").items()}
        return cls(
            years=int(parts["years"]),
            months=int(parts["months"]),
            days=int(parts["days"] + 7 * parts["weeks"]),
            seconds=parts["hours"] * 3600 + parts["minutes"] * 60 + parts["seconds"],
        )

    @property
    def is_calendar(self) -> bool:
        """True for a whole number of months or years: such spans round to the month."""
        return (self.years or self.months) > 0 and not self.days and not self.seconds

    def after(self, instant: datetime) -> datetime:
        """The instant this long after `instant`, months clamped to their last day."""
        shifted = _add_months(instant, 12 * self.years + self.months)
        return shifted + timedelta(days=self.days, seconds=self.seconds)

    def before(self, instant: datetime) -> datetime:
        shifted = _add_months(instant, -(12 * self.years + self.months))
        return shifted - timedelta(days=self.days, seconds=self.seconds)

    def approximate_seconds(self) -> float:
        """For ordering and display only: a year counts 365.25 days, a month 30.44."""
        return (self.years * 365.25 + self.months * 30.44 + self.days) * 86400 + self.seconds

    def __str__(self) -> str:
        date_part = "".join(
            f"{value}{unit}" for value, unit in ((self.years, "Y"), (self.months, "M"), (self.days, "D")) if value
        )
        time_part = f"T{self.seconds:g}S" if self.seconds else ""
        return f"P{date_part}{time_part}" if date_part or time_part else "PT0S"


def _add_months(instant: datetime, months: int) -> datetime:
    month_index = instant.year * 12 + instant.month - 1 + months
    year, month = divmod(month_index, 12)
    day = min(instant.day, calendar.monthrange(year, month + 1)[1])
    return instant.replace(year=year, month=month + 1, day=day)


def start_of_month(instant: datetime) -> datetime:
    return instant.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _coerce(value: Any) -> Duration:
    return value if isinstance(value, Duration) else Duration.parse(value)


# A Duration field in a pydantic model: read from "P2Y", written back as "P2Y".
IsoDuration = Annotated[
    Duration,
    BeforeValidator(_coerce),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "format": "duration", "examples": ["P2Y", "P90D", "PT30S"]}),
]
