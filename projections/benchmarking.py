"""Benchmarking: an assessed case's score on each indicator and each area against its peers.

Peers are the assessments of other clusters on the same catalogue version, in the narrowest peer
group (level, sector, country, size band) that holds the policy's minimum of them: domain/peers.py
says how a group is chosen and widened, and what the statistics mean. A cluster is not its own peer,
so its earlier rounds do not flatter it; and a cluster counts once among another's peers, by its latest
assessment on the catalogue version, so that a group's size is a number of clusters: two rounds of one
cluster never make up a group that would give its scores away.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.peers import PeerGroup, PeerProfile, PeerStats, choose_group, peer_stats
from clusterlabel.domain.policy import default_policy
from clusterlabel.projections.view import Change, RowCache, View
from clusterlabel.projections.view_store import Row, unstamp

# The histogram counts three kinds of item: each indicator's scores, each area's percentages, and (under
# the item "") the assessed cases themselves, which is what a peer group's size is read from.
INDICATOR, AREA, CASES = "indicator", "area", "cases"
_GROUP_COLUMNS = ("level", "sector", "country", "size_band")
Histograms = dict[tuple[str, str], Counter[int]]


class ScoreBenchmark(BaseModel):
    """A score among its peers'; the statistics are None when no peer group is large enough."""

    score: int
    peer_count: int
    peer_median: float | None
    percentile: float | None
    q1: float | None
    q3: float | None


class IndicatorBenchmark(ScoreBenchmark):
    indicator: str


class AreaBenchmark(ScoreBenchmark):
    """`score` is the share of the area's maximum the case reached, in whole percent."""

    area: str


class Benchmark(BaseModel):
    case_id: UUID
    cluster_id: UUID
    catalogue_version: str
    assessed_at: datetime
    profile: PeerProfile
    peer_group: PeerGroup | None
    indicators: list[IndicatorBenchmark]
    areas: list[AreaBenchmark]


class BenchmarkingView(View):
    name = "benchmarking"
    cost = 5.6
    view_tables = ("benchmark_clusters", "benchmark_cases", "benchmark_latest", "benchmark_peers")
    former_tables = ("benchmark_scores", "benchmark_histogram")
    # Each case keeps its latest scores and the cluster's profile when it was assessed; the histogram
    # counts, per catalogue version, peer profile and item, how many clusters (each by the case that is
    # its latest assessment on the version, in benchmark_latest) scored each value.
    # A benchmark is then the histogram of one group minus the cluster's own rounds: a few rows read,
    # however many cases are stored, and a catch-up writes one row per case.
    ddl = (
        "CREATE TABLE IF NOT EXISTS {benchmark_clusters} (cluster_id TEXT PRIMARY KEY, sector TEXT NOT NULL, "
        "country TEXT NOT NULL, members BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {benchmark_cases} (case_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, "
        "level TEXT, catalogue_version TEXT, assessed_at TEXT, scores TEXT, areas TEXT, profile TEXT)",
        "CREATE INDEX IF NOT EXISTS benchmark_by_cluster ON {benchmark_cases} (cluster_id, catalogue_version)",
        "CREATE TABLE IF NOT EXISTS {benchmark_latest} (cluster_version TEXT PRIMARY KEY, case_id TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {benchmark_peers} (catalogue_version TEXT NOT NULL, level TEXT NOT NULL, "
        "sector TEXT NOT NULL, country TEXT NOT NULL, size_band TEXT NOT NULL, kind TEXT NOT NULL, "
        "item TEXT NOT NULL, score BIGINT NOT NULL, cases BIGINT NOT NULL, "
        "PRIMARY KEY (catalogue_version, kind, level, sector, country, size_band, item, score))",
    )
    handlers: ClassVar[dict[str, str]] = {
        "Cluster.Registered": "_profiled",
        "Cluster.ProfileUpdated": "_profiled",
        "CertificationCase.Submitted": "_submitted",
        "CertificationCase.AssessmentSubmitted": "_assessed",
        "CertificationCase.ExpertReleased": "_released",
    }
    revision = 2  # 2: a release takes the case's assessment out (domain: the new team's is its own)

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> dict[str, Any]:
        assessed = [change for change in changes if change.kind == "CertificationCase.AssessmentSubmitted"]
        cases = RowCache(self, "benchmark_cases", "case_id", ("scores", "areas", "profile"))
        cases.prefetch(cursor, [change.key for change in assessed])
        # The rows an assessment reads besides its case's, loaded at once too (why: a query each, two round
        # trips an assessment on PostgreSQL): its cluster's, and its cluster's latest assessment on the case's
        # catalogue version before and after it. Keys read for nothing cost nothing but a place in the query.
        submitted = {change.key: change for change in changes if change.kind == "CertificationCase.Submitted"}
        clusters, versions = [], []
        for change in assessed:
            case = cases.rows.get(change.key) or submitted.get(change.key)
            if case is not None:
                clusters.append(case["cluster_id"])
                versions += [
                    f"{case['cluster_id']}|{case['catalogue_version']}",
                    f"{case['cluster_id']}|{change['catalogue_version']}",
                ]
        return {
            "cases": cases,
            "clusters": RowCache(self, "benchmark_clusters", "cluster_id").prefetch(cursor, clusters),
            "latest": RowCache(self, "benchmark_latest", "cluster_version").prefetch(cursor, versions),
            "counts": Counter(),
        }

    def end_batch(self, cursor: Any, batch: dict[str, Any]) -> None:
        batch["cases"].flush(cursor)
        batch["clusters"].flush(cursor)
        batch["latest"].flush(cursor)
        counts: Counter[tuple[Any, ...]] = batch["counts"]
        rows = [(*key, delta) for key, delta in sorted(counts.items()) if delta]
        # Counted: each key once in `rows`, so one statement may add them all.
        self.insert_rows(
            cursor,
            "benchmark_peers",
            ("catalogue_version", "level", "sector", "country", "size_band", "kind", "item", "score", "cases"),
            rows,
            "ON CONFLICT (catalogue_version, kind, level, sector, country, size_band, item, score) "
            "DO UPDATE SET cases = {benchmark_peers}.cases + excluded.cases",
        )
        # A count taken down to zero (an assessment replaced) goes, so that the rows do not depend on
        # how the log was cut into batches (a rebuild nets it out in one batch and writes nothing).
        emptied = [key for key, delta in sorted(counts.items()) if delta < 0]
        if emptied:
            cursor.executemany(
                self.q(
                    "DELETE FROM {benchmark_peers} WHERE catalogue_version = ? AND level = ? AND sector = ? "
                    "AND country = ? AND size_band = ? AND kind = ? AND item = ? AND score = ? AND cases = 0"
                ),
                emptied,
            )

    def _profiled(self, cursor: Any, batch: dict[str, Any], change: Change) -> None:
        profile = change.fields["profile"]
        row = {
            "cluster_id": change.key,
            "sector": profile["sector"],
            "country": profile["country"],
            "members": int(profile["members"]),
        }
        batch["clusters"].put(row)

    def _submitted(self, cursor: Any, batch: dict[str, Any], change: Change) -> None:
        row = {
            "case_id": change.key,
            "cluster_id": change["cluster_id"],
            "level": change["level"],
            "catalogue_version": change["catalogue_version"],
            "assessed_at": None,
            "scores": None,
            "areas": None,
            "profile": None,
        }
        batch["cases"].put(row)

    def _assessed(self, cursor: Any, batch: dict[str, Any], change: Change) -> None:
        row = batch["cases"].get(cursor, change.key)
        if row is None:
            return  # a case whose submission this view never saw (cannot happen in one log)
        self._uncount_latest(cursor, batch, row)
        row["catalogue_version"] = change["catalogue_version"]
        row["assessed_at"] = change["at"]
        row["scores"] = {code: int(score) for code, score in change.fields["scores"].items()}  # plain already
        row["areas"] = load_catalogue(row["catalogue_version"]).area_percentages(row["scores"])
        row["profile"] = self._profile_of(cursor, batch, row).model_dump()
        batch["counts"].update(_histogram_keys(row))
        batch["latest"].put({"cluster_version": _cluster_version(row), "case_id": row["case_id"]})
        batch["cases"].put(row)

    def _released(self, cursor: Any, batch: dict[str, Any], change: Change) -> None:
        """An expert released from the team takes its assessment with them (the case stands unassessed): out
        of the histogram, where the cluster's earlier round on the catalogue version, if any, counts again."""
        row = batch["cases"].get(cursor, change.key)
        if row is None or row["scores"] is None:
            return
        latest = batch["latest"].get(cursor, _cluster_version(row))
        if latest is not None and latest["case_id"] == row["case_id"]:
            batch["counts"].subtract(_histogram_keys(row))
            earlier = self._earlier_round(cursor, batch, row)
            if earlier is not None:
                batch["counts"].update(_histogram_keys(earlier))
                batch["latest"].put({"cluster_version": _cluster_version(row), "case_id": earlier["case_id"]})
        row.update(assessed_at=None, scores=None, areas=None, profile=None)
        batch["cases"].put(row)

    def _earlier_round(self, cursor: Any, batch: dict[str, Any], case: Row) -> Row | None:
        """The cluster's latest other assessed case on the case's catalogue version (stored, or in this batch)."""
        cursor.execute(
            self.q("SELECT case_id FROM {benchmark_cases} WHERE cluster_id = ? AND catalogue_version = ?"),
            (case["cluster_id"], case["catalogue_version"]),
        )
        ids = {found["case_id"] for found in cursor.fetchall()} | set(batch["cases"].rows)
        rounds = [batch["cases"].get(cursor, case_id) for case_id in sorted(ids - {case["case_id"]})]
        rounds = [
            other
            for other in rounds
            if other is not None
            and other["scores"] is not None
            and (other["cluster_id"], other["catalogue_version"]) == (case["cluster_id"], case["catalogue_version"])
        ]
        return max(rounds, key=lambda other: str(other["assessed_at"]), default=None)

    def _uncount_latest(self, cursor: Any, batch: dict[str, Any], case: Row) -> None:
        """Take the cluster's latest assessment on the case's catalogue version (this case's earlier
        one, or another round's) out of the histogram: the assessment being recorded replaces it."""
        latest = batch["latest"].get(cursor, _cluster_version(case))
        if latest is None:
            return
        counted = case if latest["case_id"] == case["case_id"] else batch["cases"].get(cursor, latest["case_id"])
        if counted is not None and counted["scores"] is not None:
            batch["counts"].subtract(_histogram_keys(counted))

    def _profile_of(self, cursor: Any, batch: dict[str, Any], case: Row) -> PeerProfile:
        """The peer profile of the case's cluster as it is now, at the assessment. The size bands are
        domain/policy.toml's (a view is rebuilt from the log alone, whatever policy an engine runs)."""
        cluster = batch["clusters"].get(cursor, case["cluster_id"])
        if cluster is None:  # a cluster registered before this view kept profiles: compared by level alone
            return PeerProfile(level=case["level"] or "")
        return PeerProfile(
            level=case["level"] or "",
            sector=cluster["sector"],
            country=cluster["country"],
            size_band=default_policy().size_band(int(cluster["members"])),
        )

    # ---- queries -------------------------------------------------------------------------

    def benchmark(self, case_id: UUID, minimum: int = 1) -> Benchmark | None:
        """The case against the narrowest peer group of at least `minimum` other clusters."""
        found = self.fetch(
            "SELECT * FROM {benchmark_cases} WHERE case_id = ? AND assessed_at IS NOT NULL", (str(case_id),)
        )
        if not found:
            return None
        case = _decoded(found[0])
        version = case["catalogue_version"]
        own_rounds = [  # the one that counts among others' peers: its latest on the version
            _decoded(row)
            for row in self.fetch(
                "SELECT c.* FROM {benchmark_cases} c JOIN {benchmark_latest} l ON l.case_id = c.case_id "
                "WHERE l.cluster_version = ?",
                (_cluster_version(case),),
            )
        ]
        profile = PeerProfile.model_validate(case["profile"])
        group = choose_group(profile, self._peer_counts(version, own_rounds), minimum)
        histograms = self._histograms(version, group, own_rounds) if group else {}
        return Benchmark(
            case_id=case["case_id"],
            cluster_id=case["cluster_id"],
            catalogue_version=version,
            assessed_at=unstamp(case["assessed_at"]),
            profile=profile,
            peer_group=group,
            indicators=[
                IndicatorBenchmark(indicator=code, **_among(score, histograms.get((INDICATOR, code))))
                for code, score in sorted(case["scores"].items())
            ],
            areas=[
                AreaBenchmark(area=code, **_among(score, histograms.get((AREA, code))))
                for code, score in case["areas"].items()
            ],
        )

    def _peer_counts(self, version: str, own_rounds: list[Row]) -> Counter[PeerProfile]:
        """Clusters per peer profile on the catalogue version (by their latest assessment), the
        cluster's own taken out."""
        counts: Counter[PeerProfile] = Counter()
        for row in self.fetch(
            "SELECT level, sector, country, size_band, cases FROM {benchmark_peers} "
            "WHERE catalogue_version = ? AND kind = ?",
            (version, CASES),
        ):
            counts[PeerProfile(**{name: row[name] for name in _GROUP_COLUMNS})] += int(row["cases"])
        for own in own_rounds:
            counts[PeerProfile.model_validate(own["profile"])] -= 1
        return counts

    def _histograms(self, version: str, group: PeerGroup, own_rounds: list[Row]) -> Histograms:
        """Each indicator's and area's histogram in the group, the cluster's own rounds taken out."""
        kept = [name for name in _GROUP_COLUMNS if name in group.kept]
        where = "".join(f" AND {name} = ?" for name in kept)
        histograms: Histograms = defaultdict(Counter)
        for row in self.fetch(
            "SELECT kind, item, score, SUM(cases) AS cases FROM {benchmark_peers} "
            f"WHERE catalogue_version = ? AND kind IN (?, ?){where} GROUP BY kind, item, score",
            (version, INDICATOR, AREA, *(group.kept[name] for name in kept)),
        ):
            histograms[(row["kind"], row["item"])][int(row["score"])] += int(row["cases"])
        for own in own_rounds:
            if group.includes(PeerProfile.model_validate(own["profile"])):
                for code, score in own["scores"].items():
                    histograms[(INDICATOR, code)][score] -= 1
                for code, score in own["areas"].items():
                    histograms[(AREA, code)][score] -= 1
        return histograms


def _histogram_keys(case: Row) -> list[tuple[Any, ...]]:
    """The histogram rows one assessed case counts in, each once (as a list: Counter.update() counts a list's
    items in C, where it adds a mapping's one by one in Python)."""
    profile = PeerProfile.model_validate(case["profile"])
    group = (case["catalogue_version"], *(getattr(profile, name) for name in _GROUP_COLUMNS))
    return [
        (*group, CASES, "", 0),
        *((*group, INDICATOR, code, score) for code, score in case["scores"].items()),
        *((*group, AREA, code, score) for code, score in case["areas"].items()),
    ]


def _cluster_version(case: Row) -> str:
    """The key of a cluster's latest assessment on a catalogue version (benchmark_latest)."""
    return f"{case['cluster_id']}|{case['catalogue_version']}"


def _decoded(row: Row) -> Row:
    return {**row, **{column: json.loads(row[column]) for column in ("scores", "areas", "profile")}}


def _among(score: int, histogram: Counter[int] | None) -> dict[str, Any]:
    stats: PeerStats | None = peer_stats(score, histogram) if histogram else None
    if stats is None:
        return {"score": score, "peer_count": 0, "peer_median": None, "percentile": None, "q1": None, "q3": None}
    return {
        "score": score,
        "peer_count": stats.count,
        "peer_median": stats.median,
        "percentile": stats.percentile,
        "q1": stats.q1,
        "q3": stats.q3,
    }
