"""A step sent while its case's workflow task keeps failing (the worker that held it was killed, the server was
away, or a broken worker runs it) answers 503, try again, and changes nothing: the case is open, and is not
said to be closed. Once a sound worker runs the workflow, the same step sent again goes through, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from temporalio import workflow
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from clusterlabel.workflows.messages import CaseWorkflowInput
from clusterlabel.workflows.starter import start_case_workflow
from tests.workflows.harness import (
    all_events,
    api_without_worker,
    event_count,
    run,
    running_worker,
    view_when,
)

TOKEN = "failing-task-admin-token"
QUEUE = "failing-task"


@workflow.defn(name="CaseWorkflow")
class BrokenCaseWorkflow:
    """The case's workflow as a broken deployment runs it: every workflow task fails."""

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> None:
        raise RuntimeError("a broken worker: this workflow task fails every time")


def test_a_step_on_a_case_whose_workflow_task_keeps_failing_answers_503_and_goes_through_once_it_is_sound(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        engine, client, office, transport = await api_without_worker(tmp_path, TOKEN, QUEUE)
        headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "screen-1"}
        try:
            case_id = office.submit(office.cluster())
            async with running_worker(client, engine.app, QUEUE):
                case = await start_case_workflow(client, case_id, QUEUE)
                await view_when(case, lambda view: view.state == "screening")
            before = event_count(engine.app, case_id)
            broken = Worker(
                client, task_queue=QUEUE, workflows=[BrokenCaseWorkflow], workflow_runner=UnsandboxedWorkflowRunner()
            )
            async with broken:
                await case.signal("reload")  # a workflow task, which fails, and fails again on every retry
                await _until_task_attempt(case, 3)
                async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as api:
                    refused = await api.post(f"/cases/{case_id}/screening", json={"accepted": True, "reason": "ok"})

            assert refused.status_code == 503, refused.text
            assert "try again" in refused.json()["detail"]
            assert refused.headers["Retry-After"]
            assert event_count(engine.app, case_id) == before

            async with (
                running_worker(client, engine.app, QUEUE),
                httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as api,
            ):
                taken = await _until_answered(api, f"/cases/{case_id}/screening")
            assert taken.status_code == 200, taken.text
            assert taken.json()["state"] == "assigning"
            screened = [f for f in all_events(engine.app) if f.originator_id == case_id and "Screen" in f.topic]
            assert len(screened) == 1, [f.topic for f in screened]
        finally:
            await engine.stop()

    run(asyncio.wait_for(scenario(), timeout=240))  # a failure, never a hang


async def _until_task_attempt(case: object, attempt: int) -> None:
    """Until the case's pending workflow task has failed `attempt` - 1 times in a row."""
    for _ in range(600):
        description = await case.describe()  # type: ignore[attr-defined]
        pending = description.raw_description.pending_workflow_task
        if pending.attempt >= attempt:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the workflow task never reached attempt {attempt}")


async def _until_answered(api: httpx.AsyncClient, path: str) -> httpx.Response:
    """Send the step again, as a client told 503 does, until it is answered otherwise."""
    for _ in range(120):
        answer = await api.post(path, json={"accepted": True, "reason": "ok"})
        if answer.status_code != 503:
            return answer
        await asyncio.sleep(0.5)
    return answer
