"""A view rebuilt in a process of its own (spawned, as on PostgreSQL, whose pool runs threads) knows the
catalogues its parent published: an assessment on a published revision is benchmarked, not parked."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.catalogue_shelf import parse_catalogue, publish
from clusterlabel.projections import factory
from clusterlabel.projections.factory import open_read_models
from tests.catalogues import bronze_revision, shipped_catalogues_only
from tests.lifecycle import Lifecycle
from tests.stores import sqlite_env


@pytest.fixture(autouse=True)
def only_the_shipped_catalogues() -> Iterator[None]:
    with shipped_catalogues_only():
        yield


def test_a_rebuild_in_spawned_processes_benchmarks_an_assessment_on_a_published_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    revision = parse_catalogue(bronze_revision("bronze-2025", date(2025, 1, 1)), "bronze-2025")
    publish({"bronze-2025.toml": revision})
    env = sqlite_env(tmp_path)
    app = CertificationApp(env=env)
    life = Lifecycle(app)
    case_id = life.deciding()
    assert app.get_case(case_id).catalogue_version == "bronze-2025" and revision.published == date(2025, 1, 1)

    monkeypatch.setattr(factory, "_context", lambda: multiprocessing.get_context("spawn"))
    with open_read_models(env, views_dir=tmp_path / "views") as views:
        views.rebuild(processes=2)
        assert views.parked() == []
        benchmark = views.benchmark(case_id)
        assert benchmark is not None and benchmark.catalogue_version == "bronze-2025"
