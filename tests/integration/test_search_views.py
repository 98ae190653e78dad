"""The secretariat's search and lists: clusters by name, cases by id prefix or their cluster's name, labels
by code, each filtered and paged in the database, alike on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.queries import ReadModels
from tests.integration.test_projections import POLICY, World
from tests.stores import postgres_schema


class SearchContract:
    @pytest.fixture
    def env(self) -> Any:
        raise NotImplementedError

    @pytest.fixture
    def world(self, env: dict[str, str]) -> Iterator[World]:
        world = World(app=None)  # type: ignore[arg-type]
        world.app = CertificationApp(env=env, policy=POLICY, clock=lambda: world.now)
        yield world.build()
        world.app.close()

    @pytest.fixture
    def views(self, env: dict[str, str], world: World) -> Iterator[ReadModels]:
        models = open_read_models(env, world.app, batch_size=50)
        models.catch_up()
        yield models
        models.close()

    def test_clusters_are_found_by_part_of_their_name_in_any_case_and_paged(self, views: ReadModels) -> None:
        assert [c.name for c in views.clusters(text="STER b")] == ["Cluster B"]
        assert [c.name for c in views.clusters(limit=3, offset=3)] == ["Cluster D", "Cluster E", "Cluster F"]
        assert views.clusters(text="%") == [] and views.clusters(text="_") == []  # typed wildcards are literal

    def test_cases_are_found_by_id_prefix_or_cluster_name_and_filtered_by_level(
        self, world: World, views: ReadModels
    ) -> None:
        case_e = world.ids["case E"]
        assert [c.case_id for c in views.cases(world.now, text=str(case_e)[:8].upper())] == [case_e]
        renewed = [c.case_id for c in views.cases(world.now, text="cluster a")]
        assert renewed == [world.ids["case A"], world.ids["case A2"]]
        assert views.cases(world.now, text="cluster a", limit=1, offset=1)[0].case_id == world.ids["case A2"]
        assert views.cases(world.now, level="silver") == []
        assert len(views.cases(world.now, level="bronze", state="refused")) == 1

    def test_labels_are_found_by_the_start_of_their_code_or_their_clusters_name(
        self, world: World, views: ReadModels
    ) -> None:
        label_c = views.label(world.ids["label C"], world.now)
        assert label_c is not None
        found = views.public_registry(world.now, text=label_c.label_code[:9].lower())
        assert label_c.label_id in [entry.label_id for entry in found]
        assert [entry.label_id for entry in views.public_registry(world.now, text="Cluster C")] == [label_c.label_id]


class TestSearchOnSQLite(SearchContract):
    @pytest.fixture
    def env(self, tmp_path: Path) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}


@pytest.mark.postgres
class TestSearchOnPostgreSQL(SearchContract):
    @pytest.fixture
    def env(self) -> Iterator[dict[str, str]]:
        yield from postgres_schema()
