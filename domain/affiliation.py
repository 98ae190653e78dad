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
        return f"was affiliated with the cluster until {self.until:%Y-%m-%d}, within the cooling-off period"


def check_period(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and until < since:
        raise InvalidInput(f"an affiliation cannot end ({until:%Y-%m-%d}) before it began ({since:%Y-%m-%d})")


def conflict(affiliations: list[Affiliation], at: datetime, cooling_off: Duration) -> Affiliation | None:
    """The affiliation with a cluster that keeps the expert off its cases at `at`, if any."""
    return next((held for held in affiliations if held.excludes_at(at, cooling_off)), None)
