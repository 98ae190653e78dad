"""Automatic steps the domain refuses: a workflow looks again, backs off, asks the secretariat for help
and waits for `resume`; it never fails, and never appends to its history every second until the
history limit ends the run."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from clusterlabel.activities.models import CaseView
from clusterlabel.domain.base import Level
from clusterlabel.domain.commands import Screen, WithdrawCase
from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.reconciler import Reconciler
from clusterlabel.workflows.starter import notify_experts_changed
from tests.builders import send
from tests.workflows.harness import (
    SECRETARY,
    Secretariat,
    compressed_policy,
    drive_to_award,
    office_on,
    outbox,
    result_of,
    run,
    running_worker,
    step,
    view_when,
)

TOKEN = "refusals-admin-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def test_a_case_whose_label_cannot_be_issued_asks_for_help_and_closes_once_resumed(tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = Settings(data_dir=tmp_path, admin_token=TOKEN, task_queue=f"bounded-{uuid.uuid4().hex[:8]}")
        engine = Engine(settings, policy=compressed_policy(), with_projections=False)
        await engine.start_temporal()
        office = Secretariat(engine.app, engine.services.temporal(), settings.task_queue)
        transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
        secretariat = httpx.AsyncClient(transport=transport, base_url="http://test", headers=BEARER)
        try:
            office.expert()
            cluster_id = office.cluster()
            case = await office.open_case(cluster_id)
            # A label the store says the cluster holds already (an operator's slip, a bug): every
            # attempt to issue the case's label is refused until it is released.
            stray_label = uuid.uuid4()
            cluster = office.app.get_cluster(cluster_id)
            cluster.grant_label(stray_label, Level.BRONZE, None, SECRETARY, "stray-grant")
            office.app.save(cluster)
            await drive_to_award(case)

            stuck: CaseView = await view_when(case, lambda v: v.needs_attention, timeout=60)
            assert any("refused 5 times" in reason for reason in stuck.attention)
            assert [n.recipient for n in outbox(office.app, "escalation")] == ["secretariat"]
            history = await case.fetch_history()
            assert len(history.events) < 150, "the refusals kept appending to the history"
            report = await Reconciler(engine.services.temporal(), engine.app, settings.task_queue).reconcile()
            (waiting,) = [problem for problem in report.problems if problem.workflow_id == case.id]
            assert waiting.kind == "waiting" and "refused 5 times" in waiting.detail

            cluster = office.app.get_cluster(cluster_id)
            cluster.release_label(stray_label, SECRETARY, "stray-release")
            office.app.save(cluster)
            resumed = await secretariat.post(f"/cases/{stuck.case_id}/resume")
            assert resumed.status_code == 200, resumed.text
            closed: CaseView = await asyncio.wait_for(result_of(case), timeout=60)
        finally:
            await secretariat.aclose()
            await engine.stop()

        assert closed.state == "awarded" and closed.label_id is not None
        assert not closed.needs_attention, "issuing the label settles what held it up"
        assert office.app.get_cluster(cluster_id).current_labels == {Level.BRONZE: closed.label_id}

    run(scenario())


def test_a_case_withdrawn_while_its_workflow_looked_for_an_expert_closes_instead_of_failing(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "refused")
        case = await office.open_case(office.cluster())
        async with running_worker(client, office.app, office.task_queue):
            await case.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            waiting: CaseView = await view_when(case, lambda v: v.needs_attention)
            # Withdrawn behind the workflow's back (as a step racing the choice would be): its next
            # look for an expert finds none, and escalating is refused.
            send(office.app, waiting.case_id, WithdrawCase(reason="The cluster merged with another."))
            for _ in range(50):  # visibility is eventually consistent
                if await notify_experts_changed(client, "expert re-certified"):
                    break

            closed: CaseView = await asyncio.wait_for(result_of(case), timeout=60)

        assert closed.state == "withdrawn"

    run(scenario())
