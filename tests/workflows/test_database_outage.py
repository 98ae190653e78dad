"""A step taken while the event store is down waits the outage out and then completes, and the case's
history stays small however long the outage lasts (its retries run on the server, not in its history).

The suite's outage is half a minute; `make soak` runs the two-minute one (CLUSTERLABEL_OUTAGE_SECONDS=120).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.models import CaseView
from clusterlabel.domain.commands import Screen
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.workflows.case import CaseWorkflow
from tests.workflows.harness import Secretariat, compressed_policy, run, running_worker, step, view_when

OUTAGE_SECONDS = float(os.environ.get("CLUSTERLABEL_OUTAGE_SECONDS", "30"))
# What the outage may add to the case's history whatever its length: the step's acceptance, the local
# attempts' workflow-task heartbeats and the scheduling of one server-side activity (retried there).
HISTORY_BOUND = 20


def test_a_step_taken_during_a_database_outage_completes_after_it_with_a_small_history(
    dev_server: EmbeddedTemporal, tmp_path: Path
) -> None:
    async def scenario() -> None:
        settings = Settings(data_dir=tmp_path, task_queue=f"outage-{uuid.uuid4().hex[:8]}")
        settings.ensure_data_dir()
        app = CertificationApp(env=settings.eventsourcing_env(), policy=compressed_policy())
        client = await connect_client(dev_server.address, dev_server.namespace)
        office = Secretariat(app, client, settings.task_queue)
        async with running_worker(client, app, settings.task_queue):
            case = await office.open_case(office.cluster())
            await view_when(case, lambda v: v.state == "screening")
            before = len((await case.fetch_history()).events)

            outage = sqlite3.connect(settings.sqlite_path(), isolation_level=None)
            outage.execute("BEGIN EXCLUSIVE")  # no write gets through until it ends
            screening = asyncio.create_task(case.execute_update(CaseWorkflow.screen, step(Screen(accepted=True))))
            await asyncio.sleep(OUTAGE_SECONDS)
            assert not screening.done(), "the step went through the outage"
            during = (await case.fetch_history()).events
            added = len(during) - before
            outage.execute("ROLLBACK")

            screened: CaseView = await asyncio.wait_for(screening, timeout=180)

        assert screened.state == "assigning"
        assert added <= HISTORY_BOUND, f"the outage added {added} events to the case's history"
        # How it stays small: past its local tries the step waits as a server-side activity, whose
        # retries the history does not record (local tries for ever would add a task heartbeat each).
        assert any(event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED for event in during)

    run(scenario())
