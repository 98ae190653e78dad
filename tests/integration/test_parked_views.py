"""A view that fails on an event is parked on it, and every other view keeps current; on SQLite and
PostgreSQL (one class, subclassed per store), with the real engine's runner, API and CLI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import httpx
import pytest

from clusterlabel.domain.cluster import ClusterProfile
from clusterlabel.domain.record_commands import RegisterCluster
from clusterlabel.interfaces import cli
from clusterlabel.interfaces.bootstrap import open_views
from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import sessions
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.projections import factory
from clusterlabel.projections.view import Change, View
from tests.builders import cluster_profile, register
from tests.stores import POSTGRES, postgres_schema

TOKEN = "parked-views-admin-token"
REFUSED = "Refused Cluster"


class FussyView(View):
    """Cluster names, refusing to file one of them: a view with a bug that one real event triggers."""

    name = "fussy"
    view_tables = ("fussy_clusters",)
    ddl = ("CREATE TABLE IF NOT EXISTS {fussy_clusters} (cluster_id TEXT PRIMARY KEY, name TEXT NOT NULL)",)
    handlers: ClassVar[dict[str, str]] = {"Cluster.Registered": "_registered"}
    refuses: ClassVar[frozenset[str]] = frozenset({REFUSED})

    def _registered(self, cursor: Any, batch: Any, change: Change) -> None:
        name = change["profile"]["name"]
        if name in self.refuses:
            raise ValueError(f"cannot file {name!r}")
        self.upsert(cursor, "fussy_clusters", ["cluster_id"], [{"cluster_id": change.key, "name": name}])

    def names(self) -> list[str]:
        return [row["name"] for row in self.fetch("SELECT name FROM {fussy_clusters} ORDER BY name")]


def _wait_for(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def _get(
    engine: Engine, path: str, cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(engine.services))
        async with httpx.AsyncClient(transport=transport, base_url="http://test", cookies=cookies) as client:
            return await client.get(path, headers=headers)

    return asyncio.run(get())


class ParkedViewsContract:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        raise NotImplementedError

    @pytest.fixture(autouse=True)
    def fussy_first(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Registered as the factory registers every view, and first: before, its failure stopped all after it.
        monkeypatch.setattr(factory, "VIEW_CLASSES", (FussyView, *factory.VIEW_CLASSES))

    @pytest.fixture
    def engine(self, settings: Settings) -> Iterator[Engine]:
        engine = Engine(settings, with_worker=False, poll_interval=0.05)
        engine.start_projections()
        yield engine
        asyncio.run(engine.stop())

    def register(self, engine: Engine, name: str) -> UUID:
        return register(engine.app, RegisterCluster(profile=cluster_profile(name=name)), actor="secretariat:sam")

    def test_a_view_failing_on_an_event_is_parked_there_while_every_other_view_keeps_current(
        self, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        models, app_name = engine.models, engine.models.runner.application_name
        self.register(engine, "Cluster A")
        refused = self.register(engine, REFUSED)
        (parked,) = _wait_for(models.parked)
        later = self.register(engine, "Cluster C")
        _wait_for(lambda: max(models.runner.lag(parked=False).values()) == 0)

        failing = next(n for n in engine.app.recorder.select_notifications(1, 100) if n.originator_id == refused)
        assert (parked.view, parked.position, parked.originator_id) == ("fussy", failing.id, str(refused))
        assert (parked.originator_version, parked.event_type) == (1, "Cluster.Registered")
        assert parked.error == "ValueError: cannot file 'Refused Cluster'"
        # Exactly once: the parked view kept every event before the failing one, and none after it.
        fussy = models.views["fussy"]
        assert fussy.names() == ["Cluster A"] and fussy.position(app_name) < failing.id  # type: ignore[attr-defined]
        assert models.history(later) and models.lag()["case_status"] == 0

        health = _get(engine, "/health").json()
        assert health["parked_views"] == ["fussy"]
        assert "cannot file" not in str(health) and "ValueError" not in str(health)
        metrics = _get(engine, "/metrics").text  # what an alert watches: the parked view, and it alone
        assert 'clusterlabel_projection_parked{view="fussy"} 1.0' in metrics
        assert 'clusterlabel_projection_parked{view="case_status"} 0.0' in metrics
        signed_in = {sessions.COOKIE: engine.services.sign_in().sessions.start(sessions.MACHINE_ADMIN)}
        page = _get(engine, "/ui/dashboard", cookies=signed_in)
        assert page.status_code == 200 and "fussy" in page.text and str(refused) in page.text
        assert "cannot file &#39;Refused Cluster&#39;" in page.text and "--views NAME" in page.text
        dashboard = _get(engine, "/dashboard", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert [view["position"] for view in dashboard["parked_views"]] == [failing.id]

        # A restart keeps it parked: the record is in the view's own store.
        with open_views(settings) as reopened:
            assert [view.view for view in reopened.parked()] == ["fussy"]

        # Rebuilt while the bug is still there: parked again, and the command says so.
        rebuild = ["projections", "rebuild", "--views", "fussy", "--processes", "1", *self.cli_args(settings)]
        assert cli.main(rebuild) == 1
        assert [view.position for view in models.parked()] == [failing.id]
        monkeypatch.setattr(FussyView, "refuses", frozenset())  # the fix
        assert cli.main(rebuild) == 0
        assert models.parked() == []
        _wait_for(lambda: fussy.names() == ["Cluster A", "Cluster C", REFUSED])  # type: ignore[attr-defined]
        assert _get(engine, "/health").json()["parked_views"] == []

    def cli_args(self, settings: Settings) -> list[str]:
        return ["--data-dir", str(settings.data_dir)]


class TestParkedViewsOnSQLite(ParkedViewsContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path, admin_token=TOKEN)


@pytest.mark.postgres
class TestParkedViewsOnPostgreSQL(ParkedViewsContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Iterator[Settings]:
        for env in postgres_schema():
            url = f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}"
            yield Settings(data_dir=tmp_path, admin_token=TOKEN, database_url=f"{url}?schema={env['POSTGRES_SCHEMA']}")

    def cli_args(self, settings: Settings) -> list[str]:
        return [*super().cli_args(settings), "--database-url", str(settings.database_url)]

    def test_a_nul_forced_past_the_boundary_parks_the_views_that_keep_its_name_and_no_other(
        self, engine: Engine
    ) -> None:
        models = engine.models
        body = {**cluster_profile().model_dump(), "name": "Nul\x00Cluster"}
        bad = register(engine.app, RegisterCluster(profile=ClusterProfile.model_construct(**body)), actor="sam")
        good = self.register(engine, "After the NUL")
        _wait_for(models.parked)
        # Read the parked views once every other view is current: each view parks in its own turn.
        _wait_for(lambda: max(models.runner.lag(parked=False).values()) == 0)
        parked = models.parked()
        assert {view.originator_id for view in parked} == {str(bad)}
        assert all("NUL" in view.error for view in parked), parked
        # Both keep cluster names in TEXT columns; the event chain, the audit and the others kept going.
        assert {view.view for view in parked} == {"case_status", "fussy"}
        assert models.history(good)  # the audit view kept going past the bad event
