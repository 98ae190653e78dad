"""The `clusterlabel worker` entry point: settings in, a running worker out, stopped by cancellation."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from activities.application import CertificationApp
from interfaces.settings import Settings
from interfaces.temporal_server import EmbeddedTemporal, connect_client
from interfaces.worker import run_worker
from tests.workflows.harness import Secretariat, run, view_when
from workflows.search_attributes import CASE_STATE, CLUSTER_ID


def test_the_worker_started_from_settings_runs_a_submitted_case_and_stops_when_cancelled(tmp_path: Path) -> None:
    async def scenario() -> None:
        with EmbeddedTemporal(tmp_path / "temporal") as server:
            settings = Settings(
                data_dir=tmp_path / "data", temporal_address=server.address, task_queue=f"cli-{uuid.uuid4().hex[:8]}"
            )
            settings.ensure_data_dir()
            worker = asyncio.create_task(run_worker(settings))
            client = await connect_client(server.address, server.namespace)
            office = Secretariat(CertificationApp(env=settings.eventsourcing_env()), client, settings.task_queue)
            cluster = office.cluster()
            handle = await office.open_case(cluster)
            view = await view_when(handle, lambda v: v.state == "screening")
            assert view.cluster_id == cluster
            attributes = (await handle.describe()).typed_search_attributes
            assert attributes.get(CASE_STATE) == "screening"
            assert attributes.get(CLUSTER_ID) == str(cluster)
            worker.cancel()
            await asyncio.wait_for(asyncio.gather(worker, return_exceptions=True), timeout=30)
            assert worker.done()

    run(scenario())
