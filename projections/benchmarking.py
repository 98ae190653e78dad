"""Benchmarking: an assessed case's score on each indicator against its peers.

Peers are the assessments of other clusters on the same catalogue version (a cluster is
not its own peer, so its earlier rounds do not flatter it). The percentile is the share of
peers scoring below, counting ties as half: 50 means in the middle of the field.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from projections.store import stamp, unstamp
from projections.view import Change, View


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
    view_tables = ("benchmark_cases", "benchmark_scores")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {benchmark_cases} (case_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, "
        "level TEXT, catalogue_version TEXT, assessed_at TEXT)",
        "CREATE INDEX IF NOT EXISTS benchmark_by_catalogue ON {benchmark_cases} (catalogue_version)",
        "CREATE TABLE IF NOT EXISTS {benchmark_scores} (case_id TEXT NOT NULL, indicator TEXT NOT NULL, "
        "score BIGINT NOT NULL, PRIMARY KEY (case_id, indicator))",
    )
    handlers = {
        "CertificationCase.Submitted": "_submitted",
        "CertificationCase.AssessmentSubmitted": "_assessed",
    }

    def _submitted(self, cursor: Any, batch: Any, change: Change) -> None:
        row = {
            "case_id": change.key,
            "cluster_id": str(change["cluster_id"]),
            "level": change["level"],
            "catalogue_version": change["catalogue_version"],
            "assessed_at": None,
        }
        self.upsert(cursor, "benchmark_cases", ["case_id"], [row])

    def _assessed(self, cursor: Any, batch: Any, change: Change) -> None:
        case_id = change.key
        cursor.execute(
            self.q("UPDATE {benchmark_cases} SET catalogue_version = ?, assessed_at = ? WHERE case_id = ?"),
            (change["catalogue_version"], stamp(change["at"]), case_id),
        )
        cursor.execute(self.q("DELETE FROM {benchmark_scores} WHERE case_id = ?"), (case_id,))
        rows = [{"case_id": case_id, "indicator": code, "score": int(score)} for code, score in sorted(change["scores"].items())]
        self.upsert(cursor, "benchmark_scores", ["case_id", "indicator"], rows)

    # ---- queries -------------------------------------------------------------------------

    def benchmark(self, case_id: UUID) -> Benchmark | None:
        cases = self.fetch("SELECT * FROM {benchmark_cases} WHERE case_id = ? AND assessed_at IS NOT NULL", (str(case_id),))
        if not cases:
            return None
        case = cases[0]
        own = self.fetch("SELECT indicator, score FROM {benchmark_scores} WHERE case_id = ? ORDER BY indicator", (str(case_id),))
        peers: dict[str, list[int]] = defaultdict(list)
        for row in self.fetch(
            "SELECT s.indicator, s.score FROM {benchmark_scores} s JOIN {benchmark_cases} c ON c.case_id = s.case_id "
            "WHERE c.catalogue_version = ? AND c.cluster_id <> ? AND c.assessed_at IS NOT NULL",
            (case["catalogue_version"], case["cluster_id"]),
        ):
            peers[row["indicator"]].append(int(row["score"]))
        return Benchmark(
            case_id=case["case_id"],
            cluster_id=case["cluster_id"],
            catalogue_version=case["catalogue_version"],
            assessed_at=unstamp(case["assessed_at"]),
            indicators=[_against(row["indicator"], int(row["score"]), peers[row["indicator"]]) for row in own],
        )


def _against(indicator: str, score: int, peers: list[int]) -> IndicatorBenchmark:
    if not peers:
        return IndicatorBenchmark(indicator=indicator, score=score, peer_count=0, peer_median=None, percentile=None)
    below = sum(1 for peer in peers if peer < score)
    ties = sum(1 for peer in peers if peer == score)
    return IndicatorBenchmark(
        indicator=indicator,
        score=score,
        peer_count=len(peers),
        peer_median=float(statistics.median(peers)),
        percentile=round(100.0 * (below + 0.5 * ties) / len(peers), 2),
    )
