"""An expert's account opened as a cluster's contact takes the expert off that cluster's open cases, even
when the first attempt stopped after issuing the token and the administrator sends the request again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from clusterlabel.activities.models import CaseView
from clusterlabel.domain.account import Role
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import Screen
from clusterlabel.domain.record_commands import OpenAccount
from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.interfaces.web.common import creation_key
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.starter import start_case_workflow
from tests.workflows.harness import Secretariat, all_events, compressed_policy, run, step, view_when

TOKEN = "account-retry-admin-token"


def test_a_retried_contact_opening_whose_answer_was_lost_still_releases_the_expert(tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = Settings(data_dir=tmp_path, admin_token=TOKEN, task_queue="account-retry")
        engine = Engine(settings, policy=compressed_policy())
        engine.start_projections()  # the release finds the expert's open cases in the views
        await engine.start_temporal()
        client = engine.services.temporal()
        office = Secretariat(engine.app, client, settings.task_queue)
        transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
        try:
            expert_id, cluster_id = office.expert(), office.cluster()
            case = await start_case_workflow(client, office.submit(cluster_id), settings.task_queue)
            await case.execute_update(CaseWorkflow.screen, step(Screen(accepted=True)))
            await view_when(case, lambda view: view.proposed_expert_id == expert_id)
            body = {
                "name": "Eve Evaluator",
                "email": "eve@cluster.example.org",
                "roles": ["expert", "cluster"],
                "expert_id": str(expert_id),
                "cluster_id": str(cluster_id),
            }
            # The first attempt recorded the account and issued its token, then stopped before the release.
            command = OpenAccount(roles=[Role.EXPERT, Role.CLUSTER], expert_id=expert_id, cluster_id=cluster_id)
            first = Envelope(actor="machine-admin", key=creation_key("account", "open-eve"), at=engine.services.now())
            engine.services.accounts.open(body["name"], body["email"], command, first)

            headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "open-eve"}
            async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as api:
                again = await api.post("/accounts", json=body)

            assert again.status_code == 409 and "first token was issued" in again.json()["detail"], again.text
            view: CaseView = await view_when(case, lambda view: view.proposed_expert_id != expert_id)
            assert expert_id not in view.team
            released = [
                fact.event.reason
                for fact in all_events(engine.app)
                if fact.originator_id == view.case_id and fact.topic.endswith("ExpertReleased")
            ]
            assert released == ["a conflict of interest: the expert speaks for the cluster as its contact"]
        finally:
            await engine.stop()

    run(asyncio.wait_for(scenario(), timeout=180))  # a failure, never a hang
