"""The report's `awarded_level`: the level an award gave, and null for a refusal or a benchmarking, which
record the level they weighed but award none."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import UUID

from clusterlabel.activities.documents.report import ReportOut
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.peers import PeerProfile
from clusterlabel.interfaces.web.report import build_report
from clusterlabel.projections.benchmarking import Benchmark
from tests.lifecycle import Lifecycle


def report_of(life: Lifecycle, case_id: UUID) -> dict[str, Any]:
    """The report's JSON, its benchmarking view stood in for by a case compared with no peers."""
    case = life.app.get_case(case_id)
    assert case.assessed_at is not None
    benchmark = Benchmark(
        case_id=case.id,
        cluster_id=case.cluster_id,
        catalogue_version=case.catalogue_version,
        assessed_at=case.assessed_at,
        profile=PeerProfile(level=case.level.value),
        peer_group=None,
        indicators=[],
        areas=[],
    )
    models = SimpleNamespace(benchmark=lambda _case_id, _minimum: benchmark)
    svc: Any = SimpleNamespace(fresh=lambda: None, app=life.app, models=models)
    report: ReportOut = build_report(svc, case)
    return report.model_dump(mode="json")


def test_an_awarded_case_reports_the_level_it_was_awarded(life: Lifecycle) -> None:
    case_id = life.awarded()
    report = report_of(life, case_id)
    assert (report["outcome"], report["awarded_level"]) == ("award", "bronze")


def test_a_refused_case_reports_no_awarded_level(life: Lifecycle) -> None:
    case_id = life.deciding()
    life.decide(case_id, Outcome.REFUSE)
    report = report_of(life, case_id)
    assert report["outcome"] == "refuse"
    assert "awarded_level" in report and report["awarded_level"] is None  # the schema's null, not left out


def test_a_benchmarking_only_case_reports_no_awarded_level(life: Lifecycle) -> None:
    case_id = life.deciding(benchmarking_only=True)
    life.decide(case_id)
    report = report_of(life, case_id)
    assert (report["outcome"], report["awarded_level"]) == ("benchmark", None)


def test_an_undecided_case_reports_no_outcome_and_no_awarded_level(life: Lifecycle) -> None:
    report = report_of(life, life.deciding())
    assert (report["outcome"], report["awarded_level"]) == (None, None)
