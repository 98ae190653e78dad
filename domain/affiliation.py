"""An expert's affiliations with clusters, each with the period it ran, and whether one is a conflict of
interest on a case (ISO/IEC 17065 §4.2, impartiality: a relationship with the client within a recent period, such as a
consultancy, is a threat; the period is policy, `affiliation_cooling_off`).

Affiliations declared before they carried dates (and those named at registration) have neither `since`
nor `until`: they read as ongoing, so they exclude the expert for good, as they always did. An officer who
knows the old one ended declares it again with its dates; the undated one still excludes, since nothing
recorded says it ended (a conflict is never lifted by a guess).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clusterlabel.domain.base import InvalidInput
from clusterlabel.domain.durations import Duration
from clusterlabel.domain.label_lifecycle import last_valid_day


@dataclass(frozen=True)
class Affiliation:
    """One affiliation with one cluster; None on either side: not known (an undated one is ongoing)."""

    since: datetime | None = None
    until: datetime | None = None

    def excludes_at(self, at: datetime, cooling_off: Duration) -> bool:
        """Ongoing, or ended less than the cooling-off period before `at`."""
        return self.until is None or at < cooling_off.after(self.until)

    def describe(self) -> str:
        if self.until is None:
            return "is affiliated with the cluster"
        # An end is kept as the first instant past it: named by its last day, as the pages print it.
        last_day = last_valid_day(self.until)
        return f"was affiliated with the cluster until {last_day:%Y-%m-%d}, within the cooling-off period"


def check_period(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and until <= since:  # an end is the first instant past it
        raise InvalidInput(
            f"an affiliation cannot end ({last_valid_day(until):%Y-%m-%d}) before it began ({since:%Y-%m-%d})"
        )


def conflict(affiliations: list[Affiliation], at: datetime, cooling_off: Duration) -> Affiliation | None:
    """The affiliation with a cluster that keeps the expert off its cases at `at`, if any."""
    return next((held for held in affiliations if held.excludes_at(at, cooling_off)), None)
