"""Peers: which assessed clusters a cluster is compared with, and where its score stands among theirs.

A peer group is the assessments on the same catalogue version by clusters of the same level, sector,
country and size band (a cluster's own rounds are never its peers). A group smaller than the policy's
minimum could give one other cluster's scores away, so it is widened in a fixed order — first any size,
then any country, then any sector, then any level — and when even the widest group is too small, no
comparison is shown at all.

Statistics come from histograms (score → how many peers scored it), never from the peers' rows, so
that a report reads a few rows however many cases are stored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

Dimension = Literal["level", "sector", "country", "size_band"]
# The order in which a too-small group is widened: the first named is the first given up.
WIDENING: tuple[Dimension, ...] = ("size_band", "country", "sector", "level")


class PeerProfile(BaseModel):
    """What places an assessment in a peer group: the cluster as it was when it was assessed."""

    model_config = ConfigDict(frozen=True)

    # "" where it is not known (an assessment recorded before profiles were kept): only its equals match.
    level: str = ""
    sector: str = ""
    country: str = ""
    size_band: str = ""


class PeerGroup(BaseModel):
    """The peers a report compares with: the dimensions kept (the rest widened away) and how many they are."""

    model_config = ConfigDict(frozen=True)

    kept: dict[str, str]
    widened: list[str]
    count: int

    def includes(self, profile: PeerProfile) -> bool:
        return all(getattr(profile, name) == value for name, value in self.kept.items())


class PeerStats(BaseModel):
    """One score among its peers': the peers' quartiles and median, and the score's percentile (the
    share of peers scoring below it, ties counting half: 50 is the middle of the field)."""

    count: int
    q1: float
    median: float
    q3: float
    percentile: float


def candidate_groups(profile: PeerProfile) -> list[tuple[dict[str, str], list[str]]]:
    """Every group the profile belongs to, narrowest first: (kept dimensions, widened dimensions)."""
    groups = []
    for widened_count in range(len(WIDENING) + 1):
        widened: list[str] = list(WIDENING[:widened_count])
        kept: dict[str, str] = {name: getattr(profile, name) for name in reversed(WIDENING) if name not in widened}
        groups.append((kept, widened))
    return groups


def choose_group(profile: PeerProfile, peer_counts: Mapping[PeerProfile, int], minimum: int) -> PeerGroup | None:
    """The narrowest group of the profile with at least `minimum` peers; None when even all are fewer.

    `peer_counts` counts the assessments per profile with the cluster's own rounds already taken out."""
    for kept, widened in candidate_groups(profile):
        group = PeerGroup(kept=kept, widened=widened, count=0)
        count = sum(n for peer, n in peer_counts.items() if n > 0 and group.includes(peer))
        if count >= minimum:
            return group.model_copy(update={"count": count})
    return None


def peer_stats(score: float, histogram: Mapping[int, int]) -> PeerStats | None:
    """Where `score` stands among the scores the histogram counts; None without peers."""
    count = sum(n for n in histogram.values() if n > 0)
    if not count:
        return None
    below = sum(n for value, n in histogram.items() if value < score and n > 0)
    ties = sum(n for value, n in histogram.items() if value == score and n > 0)
    return PeerStats(
        count=count,
        q1=quantile(histogram, 0.25),
        median=quantile(histogram, 0.5),
        q3=quantile(histogram, 0.75),
        percentile=round(100.0 * (below + 0.5 * ties) / count, 2),
    )


def quantile(histogram: Mapping[int, int], q: float) -> float:
    """The q-quantile of the counted scores, interpolating between neighbours as a spreadsheet's
    QUARTILE.INC (and Python's statistics.quantiles(method="inclusive")) does."""
    count = sum(n for n in histogram.values() if n > 0)
    if not count:
        raise ValueError("an empty histogram has no quantiles")
    position = (count - 1) * q
    below, above = _nth(histogram, math.floor(position)), _nth(histogram, math.ceil(position))
    return round(below + (above - below) * (position - math.floor(position)), 4)


def _nth(histogram: Mapping[int, int], index: int) -> int:
    """The score at this place (from 0) when the counted scores are sorted."""
    seen = 0
    for value in sorted(histogram):
        seen += max(histogram[value], 0)
        if seen > index:
            return value
    raise IndexError(index)
