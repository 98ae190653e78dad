"""The benchmarking view's histogram: peers counted once per case, a cluster never its own peer."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import Notification, Tracking
from hypothesis import given
from hypothesis import strategies as st

from clusterlabel.activities.application import CertificationApp
from clusterlabel.projections.benchmarking import BenchmarkingView, _median
from clusterlabel.projections.factory import build_views, view_classes_named
from clusterlabel.projections.stored import StoredFields
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


def view_after(log: Log) -> BenchmarkingView:
    settings = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
    (view,) = build_views(settings, None, view_classes_named(["benchmarking"]))
    view.apply(log.changes, Tracking(log.app.name, len(log.changes)))
    return view  # type: ignore[return-value]


def test_a_new_assessment_of_a_case_replaces_its_earlier_scores_among_the_peers() -> None:
    log = Log()
    clusters, cases = [uuid4() for _ in range(3)], [uuid4() for _ in range(4)]
    for case_id, cluster_id in zip(cases, [clusters[0], clusters[1], clusters[2], clusters[0]], strict=True):
        log.submit(case_id, cluster_id)
    log.assess(cases[0], {"1.1": 1, "1.2": 5})
    log.assess(cases[0], {"1.1": 4, "1.2": 2})  # replaces the first
    log.assess(cases[1], {"1.1": 3, "1.2": 3})
    log.assess(cases[2], {"1.1": 5, "1.2": 0})
    log.assess(cases[3], {"1.1": 0, "1.2": 0})  # cluster 0's other round
    benchmark = view_after(log).benchmark(cases[1])
    assert benchmark is not None
    by_code = {item.indicator: item for item in benchmark.indicators}
    # Peers: cluster 0's two rounds (4, 2 after the re-assessment; 0, 0) and cluster 2's (5, 0).
    assert (by_code["1.1"].peer_count, by_code["1.1"].peer_median, by_code["1.1"].percentile) == (3, 4.0, 33.33)
    assert (by_code["1.2"].peer_count, by_code["1.2"].peer_median, by_code["1.2"].percentile) == (3, 0.0, 100.0)
    own = view_after(log).benchmark(cases[0])
    assert own is not None and {item.indicator: item.peer_count for item in own.indicators} == {
        "1.1": 2,
        "1.2": 2,
    }  # clusters 1 and 2


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=40))
def test_the_median_of_a_histogram_is_the_median_of_its_scores(scores: list[int]) -> None:
    assert _median(Counter(scores), len(scores)) == statistics.median(scores)
