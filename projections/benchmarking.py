"""Benchmarking: an assessed case's score on each indicator against its peers.

Peers are the assessments of other clusters on the same catalogue version (a cluster is
not its own peer, so its earlier rounds do not flatter it). The percentile is the share of
peers scoring below, counting ties as half: 50 means in the middle of the field.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.projections.store import unstamp
from clusterlabel.projections.view import Change, RowCache, View


class IndicatorBenchmark(BaseModel):
    indicator: str
    score: int
    peer_count: int
    peer_median: float | None
    percentile: float | None


class Benchmark(BaseModel):
    case_id: UUID
    cluster_id: UUID
    catalogue_version: str
    assessed_at: datetime
    indicators: list[IndicatorBenchmark]


class BenchmarkingView(View):
    name = "benchmarking"
    cost = 2.5
    view_tables = ("benchmark_cases", "benchmark_histogram")
    former_tables = ("benchmark_scores",)
    # Each case keeps its latest scores; the histogram counts, per catalogue version and
    # indicator, how many assessed cases scored each value. A benchmark is then the histogram
    # minus the cluster's own rounds: a few rows read, however many cases are stored, and a
    # catch-up writes one row per case instead of one per score.
    ddl = (
        "CREATE TABLE IF NOT EXISTS {benchmark_cases} (case_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, "
        "level TEXT, catalogue_version TEXT, assessed_at TEXT, scores TEXT)",
        "CREATE INDEX IF NOT EXISTS benchmark_by_cluster ON {benchmark_cases} (cluster_id, catalogue_version)",
        "CREATE TABLE IF NOT EXISTS {benchmark_histogram} (catalogue_version TEXT NOT NULL, indicator TEXT NOT NULL, "
        "score BIGINT NOT NULL, cases BIGINT NOT NULL, PRIMARY KEY (catalogue_version, indicator, score))",
    )
    handlers: ClassVar[dict[str, str]] = {
        "CertificationCase.Submitted": "_submitted",
        "CertificationCase.AssessmentSubmitted": "_assessed",
    }

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> dict[str, Any]:
        cases = RowCache(self, "benchmark_cases", "case_id", ("scores",))
        cases.prefetch(cursor, [change.key for change in changes if change.event_type == "AssessmentSubmitted"])
        return {"cases": cases, "counts": Counter()}

    def end_batch(self, cursor: Any, batch: dict[str, Any]) -> None:
        batch["cases"].flush(cursor)
        counts: Counter[tuple[str, str, int]] = batch["counts"]
        rows = [(version, code, score, delta) for (version, code, score), delta in sorted(counts.items()) if delta]
        # Counted: each (version, indicator, score) once in `rows`, so one statement may add them all.
        self.insert_rows(
            cursor,
            "benchmark_histogram",
            ("catalogue_version", "indicator", "score", "cases"),
            rows,
            "ON CONFLICT (catalogue_version, indicator, score) DO UPDATE SET cases = {benchmark_histogram}.cases + excluded.cases",
        )

    def _submitted(self, cursor: Any, batch: dict[str, Any], change: Change) -> None:
        row = {
            "case_id": change.key,
            "cluster_id": change["cluster_id"],
            "level": change["level"],
            "catalogue_version": change["catalogue_version"],
            "assessed_at": None,
            "scores": None,
        }
        batch["cases"].put(row)

    def _assessed(self, cursor: Any, batch: dict[str, Any], change: Change) -> None:
        row = batch["cases"].get(cursor, change.key)
        if row is None:
            return  # a case whose submission this view never saw (cannot happen in one log)
        counts: Counter[tuple[str, str, int]] = batch["counts"]
        if row["scores"] is not None:  # a new assessment replaces the case's earlier one
            counts.subtract({(row["catalogue_version"], code, score): 1 for code, score in row["scores"].items()})
        row["catalogue_version"] = change["catalogue_version"]
        row["assessed_at"] = change["at"]
        row["scores"] = {code: int(score) for code, score in change.fields["scores"].items()}  # plain already
        counts.update({(row["catalogue_version"], code, score): 1 for code, score in row["scores"].items()})
        batch["cases"].put(row)

    # ---- queries -------------------------------------------------------------------------

    def benchmark(self, case_id: UUID) -> Benchmark | None:
        cases = self.fetch(
            "SELECT * FROM {benchmark_cases} WHERE case_id = ? AND assessed_at IS NOT NULL", (str(case_id),)
        )
        if not cases:
            return None
        case = cases[0]
        peers: dict[str, Counter[int]] = defaultdict(Counter)
        for row in self.fetch(
            "SELECT indicator, score, cases FROM {benchmark_histogram} WHERE catalogue_version = ?",
            (case["catalogue_version"],),
        ):
            peers[row["indicator"]][int(row["score"])] = int(row["cases"])
        own_rounds = self.fetch(
            "SELECT scores FROM {benchmark_cases} WHERE cluster_id = ? AND catalogue_version = ? AND assessed_at IS NOT NULL",
            (case["cluster_id"], case["catalogue_version"]),
        )
        for own in own_rounds:  # a cluster is not its own peer
            for code, score in json.loads(own["scores"]).items():
                peers[code][score] -= 1
        scores: dict[str, int] = json.loads(case["scores"])
        return Benchmark(
            case_id=case["case_id"],
            cluster_id=case["cluster_id"],
            catalogue_version=case["catalogue_version"],
            assessed_at=unstamp(case["assessed_at"]),
            indicators=[_against(code, score, peers[code]) for code, score in sorted(scores.items())],
        )


def _against(indicator: str, score: int, peers: Counter[int]) -> IndicatorBenchmark:
    count = sum(n for n in peers.values() if n > 0)
    if not count:
        return IndicatorBenchmark(indicator=indicator, score=score, peer_count=0, peer_median=None, percentile=None)
    below = sum(n for value, n in peers.items() if value < score and n > 0)
    ties = max(peers[score], 0)
    return IndicatorBenchmark(
        indicator=indicator,
        score=score,
        peer_count=count,
        peer_median=_median(peers, count),
        percentile=round(100.0 * (below + 0.5 * ties) / count, 2),
    )


def _median(histogram: Counter[int], count: int) -> float:
    """The median of the scores a histogram counts (the mean of the middle two for an even count)."""
    middle = sorted(((count - 1) // 2, count // 2))
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        seen += max(histogram[value], 0)
        while len(found) < 2 and seen > middle[len(found)]:
            found.append(value)
    return (found[0] + found[1]) / 2
