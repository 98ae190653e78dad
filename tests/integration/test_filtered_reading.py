"""The log read as the views need it (projections/log_reader.py), on SQLite and on PostgreSQL: as rows, not
through the recorder, and, for a runner none of whose views reads every event, only the kinds they handle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.record_commands import RegisterCluster
from clusterlabel.projections.factory import open_read_models
from clusterlabel.projections.log_reader import LogReader
from clusterlabel.projections.runner import wanted_kinds
from clusterlabel.projections.stored_fields import StoredFields
from clusterlabel.projections.view import Change
from tests.builders import cluster_profile, key, register
from tests.integration.test_projections import POLICY, World
from tests.stores import postgres_schema

# Views that handle only some kinds of event, none of them common in the world's log.
FEW = ["invoices", "complaints", "accounts", "expiry_calendar"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.sqlite")}
    else:
        yield from postgres_schema()


@pytest.fixture
def world(env: dict[str, str]) -> Iterator[World]:
    world = World(app=None)  # type: ignore[arg-type]
    world.app = CertificationApp(env=env, policy=POLICY, clock=lambda: world.now)
    yield world.build()
    world.app.close()


def test_the_log_read_as_rows_is_the_log_read_through_the_recorder(world: World) -> None:
    app, stored = world.app, StoredFields(world.app.mapper)
    through_recorder = [Change(n, stored) for n in app.recorder.select_notifications(start=1, limit=10_000)]
    as_rows = LogReader(app, stored).changes(0, 10_000)
    assert len(as_rows) == len(through_recorder) == app.recorder.max_notification_id()
    for row, notified in zip(as_rows, through_recorder, strict=True):
        assert (row.id, row.key, row.version, row.kind) == (notified.id, notified.key, notified.version, notified.kind)
        assert row.fields == notified.fields
        assert row.notification == notified.notification  # built on demand, the same as the recorder's


def test_a_read_of_some_kinds_stops_where_it_is_told(world: World) -> None:
    reader = LogReader(world.app, StoredFields(world.app.mapper))
    everything = reader.changes(0, 10_000)
    kinds = {"Label.Issued", "Cluster.Registered"}
    wanted = [change.id for change in everything if change.kind in kinds]
    assert 0 < len(wanted) < len(everything)
    assert [change.id for change in reader.changes(0, 10_000, kinds=kinds)] == wanted
    assert [change.id for change in reader.changes(wanted[1], 2, kinds=kinds)] == wanted[2:4]
    assert [change.id for change in reader.changes(0, 10_000, stop=wanted[3], kinds=kinds)] == wanted[:4]


def test_views_that_handle_some_kinds_read_only_those_and_still_end_at_the_head(
    env: dict[str, str], world: World
) -> None:
    filtered = open_read_models(env, world.app, batch_size=7, only=FEW)
    runner = filtered.runner
    wanted = wanted_kinds(runner.views)
    assert wanted is not None
    read = filtered.catch_up()
    head = runner.head()
    everything = LogReader(world.app, runner.stored).changes(0, 10_000)
    assert 0 < read == sum(change.kind in wanted for change in everything) < head
    assert set(runner.positions().values()) == {head}  # tracked at the head, the events not read included
    caught_up = filtered.dump()

    # Events none of these views handles move them on to the new head too, as they follow the log.
    cluster = RegisterCluster(profile=cluster_profile(name="Cluster Late"))
    register(world.app, cluster, actor="secretariat:sam", command_key=key())
    assert runner.head() > head
    assert runner.run_once() == 0
    assert set(runner.positions().values()) == {runner.head()}
    assert filtered.dump() == caught_up
    filtered.close()

    # The same views beside one that reads every event (so nothing is left out of the read): the same rows.
    together = open_read_models(env, world.app, batch_size=7, only=[*FEW, "audit_history"])
    assert wanted_kinds(together.runner.views) is None
    together.rebuild()
    assert {name: tables for name, tables in together.dump().items() if name in FEW} == caught_up
    together.close()
