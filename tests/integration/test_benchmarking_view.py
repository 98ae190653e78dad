"""The benchmarking view's histogram: each other cluster counted once (by its latest round), a cluster
never its own peer."""

from __future__ import annotations

import statistics
from collections import Counter
from itertools import pairwise
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import Notification, Tracking
from hypothesis import given
from hypothesis import strategies as st

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.peers import quantile
from clusterlabel.projections.benchmarking import BenchmarkingView
from clusterlabel.projections.factory import build_views, view_classes_named
from clusterlabel.projections.stored_fields import StoredFields
from clusterlabel.projections.view import Change
from tests.builders import T0

TOPIC = "domain.certification_case:CertificationCase."


class Log:
    """Stored case events, written as the application's mapper writes them."""

    def __init__(self) -> None:
        self.app = CertificationApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.stored = StoredFields(self.app.mapper)
        self.changes: list[Change] = []
        self.versions: Counter[UUID] = Counter()

    def add(self, case_id: UUID, event: str, **fields: Any) -> None:
        self.versions[case_id] += 1
        state = self.app.mapper.transcoder.encode(
            {"timestamp": T0, "actor": "test", "command_key": str(uuid4()), **fields}
        )
        notification = Notification(
            id=len(self.changes) + 1,
            originator_id=case_id,
            originator_version=self.versions[case_id],
            topic=TOPIC + event,
            state=state,
        )
        self.changes.append(Change(notification, self.stored))

    def submit(self, case_id: UUID, cluster_id: UUID) -> None:
        self.add(case_id, "Submitted", cluster_id=cluster_id, level="bronze", catalogue_version="bronze-2020")

    def assess(self, case_id: UUID, scores: dict[str, int]) -> None:
        self.add(case_id, "AssessmentSubmitted", catalogue_version="bronze-2020", scores=scores, at=T0)


def view_after(log: Log, split_at: int | None = None) -> BenchmarkingView:
    """The view having applied the log: in one batch, or in two cut after `split_at` changes."""
    settings = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
    (view,) = build_views(settings, None, view_classes_named(["benchmarking"]))
    cuts = [0, len(log.changes)] if split_at is None else [0, split_at, len(log.changes)]
    for start, end in pairwise(cuts):
        view.apply(log.changes[start:end], Tracking(log.app.name, end))
    return view  # type: ignore[return-value]


def test_a_new_assessment_replaces_the_earlier_one_and_a_cluster_counts_once_by_its_latest_round() -> None:
    log = Log()
    clusters, cases = [uuid4() for _ in range(3)], [uuid4() for _ in range(4)]
    for case_id, cluster_id in zip(cases, [clusters[0], clusters[1], clusters[2], clusters[0]], strict=True):
        log.submit(case_id, cluster_id)
    log.assess(cases[0], {"1.1": 1, "1.2": 5})
    log.assess(cases[0], {"1.1": 4, "1.2": 2})  # replaces the first
    log.assess(cases[1], {"1.1": 3, "1.2": 3})
    log.assess(cases[2], {"1.1": 5, "1.2": 0})
    log.assess(cases[3], {"1.1": 0, "1.2": 0})  # cluster 0's later round: it counts by this one now
    benchmark = view_after(log).benchmark(cases[1])
    assert benchmark is not None
    by_code = {item.indicator: item for item in benchmark.indicators}
    # Peers: cluster 0 by its latest round (0, 0) and cluster 2 (5, 0).
    assert (by_code["1.1"].peer_count, by_code["1.1"].peer_median, by_code["1.1"].percentile) == (2, 2.5, 50.0)
    assert (by_code["1.2"].peer_count, by_code["1.2"].peer_median, by_code["1.2"].percentile) == (2, 0.0, 100.0)
    own = view_after(log).benchmark(cases[0])
    assert own is not None and {item.indicator: item.peer_count for item in own.indicators} == {
        "1.1": 2,
        "1.2": 2,
    }  # clusters 1 and 2


def test_an_assessment_taken_out_by_a_release_leaves_the_peers_and_the_clusters_earlier_round_counts_again() -> None:
    """An expert released from a team takes the team's assessment with them (the case stands unassessed):
    the peers' histogram no longer counts it, and its cluster counts by its earlier round on the version, in
    one batch or across two. A cluster with no earlier round is no peer until its new team assesses."""
    log = Log()
    clusters, earlier, later, other = [uuid4() for _ in range(2)], uuid4(), uuid4(), uuid4()
    for case_id, cluster_id in ((earlier, clusters[0]), (later, clusters[0]), (other, clusters[1])):
        log.submit(case_id, cluster_id)
    log.assess(earlier, {"1.1": 1, "1.2": 5})
    log.assess(other, {"1.1": 3, "1.2": 3})
    log.assess(later, {"1.1": 0, "1.2": 0})
    assessed = len(log.changes)
    log.add(later, "ExpertReleased", expert_id=uuid4(), reason="certification revoked", at=T0)

    for view in (view_after(log), view_after(log, split_at=assessed)):
        benchmark = view.benchmark(other)
        assert benchmark is not None
        assert {item.indicator: item.peer_median for item in benchmark.indicators} == {"1.1": 1.0, "1.2": 5.0}
        assert view.benchmark(later) is None  # unassessed: no benchmark of its own until the new team assesses
    alone = Log()
    alone.submit(later, clusters[0])
    alone.submit(other, clusters[1])
    alone.assess(later, {"1.1": 0, "1.2": 0})
    alone.assess(other, {"1.1": 3, "1.2": 3})
    alone.add(later, "ExpertReleased", expert_id=uuid4(), reason="certification revoked", at=T0)
    benchmark = view_after(alone).benchmark(other)
    assert benchmark is not None and benchmark.peer_group is None


def test_two_rounds_of_one_cluster_do_not_make_a_peer_group_of_two() -> None:
    """With a minimum of two, one other cluster is too few, however often it was assessed: its
    scores would be the group's."""
    log = Log()
    alone, twice = uuid4(), uuid4()
    cases = {"alone": uuid4(), "first": uuid4(), "second": uuid4()}
    log.submit(cases["alone"], alone)
    log.submit(cases["first"], twice)
    log.submit(cases["second"], twice)
    for case_id in cases.values():
        log.assess(case_id, {"1.1": 3, "1.2": 3})
    benchmark = view_after(log).benchmark(cases["alone"], minimum=2)
    assert benchmark is not None and benchmark.peer_group is None
    assert all(item.percentile is None for item in benchmark.indicators)
    shown = view_after(log).benchmark(cases["alone"], minimum=1)
    assert shown is not None and shown.peer_group is not None and shown.peer_group.count == 1


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=40))
def test_the_median_of_a_histogram_is_the_median_of_its_scores(scores: list[int]) -> None:
    assert quantile(Counter(scores), 0.5) == statistics.median(scores)


def register(log: Log, cluster_id: UUID, sector: str, country: str, members: int) -> None:
    profile = {"name": f"Cluster {sector} {country}", "sector": sector, "country": country, "members": members}
    log.versions[cluster_id] += 1
    state = log.app.mapper.transcoder.encode({"timestamp": T0, "actor": "test", "command_key": "k", "profile": profile})
    notification = Notification(
        id=len(log.changes) + 1,
        originator_id=cluster_id,
        originator_version=log.versions[cluster_id],
        topic="domain.cluster:Cluster.Registered",
        state=state,
    )
    log.changes.append(Change(notification, log.stored))


def test_peers_are_the_clusters_alike_and_a_group_below_the_minimum_is_widened_or_not_shown() -> None:
    log = Log()
    own, *others = [uuid4() for _ in range(6)]
    register(log, own, "maritime", "LT", 40)
    for number, cluster_id in enumerate(others):  # two maritime peers in Lithuania, three food ones elsewhere
        register(log, cluster_id, *(("maritime", "LT") if number < 2 else ("food", "SE")), 40)
    own_case, own_earlier = uuid4(), uuid4()
    for case_id, cluster_id in [(own_case, own), (own_earlier, own), *((uuid4(), c) for c in others)]:
        log.submit(case_id, cluster_id)
        log.assess(case_id, {"B-STR-01": 3 if cluster_id == own else others.index(cluster_id)})
    view = view_after(log)

    alike = view.benchmark(own_case, minimum=2)
    assert alike is not None and alike.peer_group is not None
    assert (alike.peer_group.count, alike.peer_group.widened) == (2, [])  # its own earlier round is no peer
    assert (alike.indicators[0].peer_median, alike.indicators[0].percentile) == (0.5, 100.0)
    assert [(area.area, area.score, area.peer_count) for area in alike.areas] == [("structure", 60, 2)]

    widened = view.benchmark(own_case, minimum=5)
    assert widened is not None and widened.peer_group is not None
    assert widened.peer_group.widened == ["size_band", "country", "sector"] and widened.peer_group.count == 5
    assert (widened.indicators[0].q1, widened.indicators[0].peer_median, widened.indicators[0].q3) == (1.0, 2.0, 3.0)

    alone = view.benchmark(own_case, minimum=6)
    assert alone is not None and alone.peer_group is None
    assert (alone.indicators[0].percentile, alone.areas[0].peer_median, alone.indicators[0].score) == (None, None, 3)
