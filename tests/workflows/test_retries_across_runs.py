"""A retried HTTP step answers as the first did, even after the workflow that took it has moved on to a
new run (Temporal remembers an update id within one run only)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

import httpx
from temporalio.client import WorkflowExecutionStatus

from clusterlabel.activities.models import LabelView
from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.app import create_app
from clusterlabel.workflows.case import case_workflow_id
from clusterlabel.workflows.starter import case_handle, label_handle, start_case_workflow
from tests.workflows.harness import Secretariat, compressed_policy, drive_to_award, result_of, run, view_when

TOKEN = "retries-admin-token"


def test_a_retried_label_step_answers_as_the_first_did_after_the_label_continued_as_new(tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = Settings(data_dir=tmp_path, admin_token=TOKEN, task_queue="retries")
        engine = Engine(settings, policy=compressed_policy(), with_projections=False)
        await engine.start_temporal()
        client = engine.services.temporal()
        office = Secretariat(engine.app, client, settings.task_queue)
        transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            office.expert()
            case_id = office.submit(office.cluster())
            # The label's workflow continues as new after every step it handles.
            case = await start_case_workflow(client, case_id, settings.task_queue, label_continue_after=1)
            await drive_to_award(case)
            label_id = (await result_of(case)).label_id
            assert label_id is not None
            first_run = (await label_handle(client, label_id).describe()).run_id
            async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as api:
                suspension = {"reason": "complaint under review"}
                assert (await api.post(f"/labels/{label_id}/suspension", json=suspension)).status_code == 200
                key = {"Idempotency-Key": "restore-1"}
                first = await api.post(f"/labels/{label_id}/restoration", headers=key)
                assert first.status_code == 200, first.text
                for _ in range(300):  # the run that took the steps hands over to a new one
                    if (await label_handle(client, label_id).describe()).run_id != first_run:
                        break
                    await asyncio.sleep(0.1)
                await view_when(label_handle(client, label_id), lambda view: True, view_type=LabelView)

                again = await api.post(f"/labels/{label_id}/restoration", headers=key)

                assert again.status_code == 200, again.text
                assert again.json()["state"] == first.json()["state"] == "active"
        finally:
            await engine.stop()

    run(asyncio.wait_for(scenario(), timeout=180))  # a failure, never a hang


def test_a_retried_application_never_starts_a_second_run_for_a_case_whose_workflow_ended(tmp_path: Path) -> None:
    async def scenario() -> None:
        settings = Settings(data_dir=tmp_path, admin_token=TOKEN, task_queue="retries")
        engine = Engine(
            settings, policy=compressed_policy(appeal_window="PT2S"), with_projections=False
        )  # the rejection waits out its appeal window
        await engine.start_temporal()
        client = engine.services.temporal()
        transport = httpx.ASGITransport(app=create_app(engine.services, pages=False))
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as api:
                cluster_id = Secretariat(engine.app, client, settings.task_queue).cluster()
                application = {
                    "json": {"cluster_id": str(cluster_id), "level": "bronze"},
                    "headers": {"Idempotency-Key": "apply-1"},
                }
                case_id = (await api.post("/applications", **application)).json()["case_id"]
                rejection = {"accepted": False, "reason": "Outside the programme's scope."}
                assert (await api.post(f"/cases/{case_id}/screening", json=rejection)).status_code == 200
                await result_of(case_handle(client, UUID(case_id)))

                again = await api.post("/applications", **application)

                assert again.status_code == 201, again.text
                assert again.json()["case_id"] == case_id
                runs = [run async for run in client.list_workflows(f'WorkflowId="{case_workflow_id(UUID(case_id))}"')]
                assert [run.status for run in runs] == [WorkflowExecutionStatus.COMPLETED]
        finally:
            await engine.stop()

    run(asyncio.wait_for(scenario(), timeout=180))  # a failure, never a hang
