"""A step whose update the engine fails without the domain's word (the server rejects it unprocessed, a
worker drops it, or fails it after its command was recorded) is sent again, under a fresh update id and the
same key: the caller sees the step taken, once, not a 409 telling them to reload. While the engine keeps
failing it the answer is 503, try again, and nothing is recorded; the same request sent again once the
engine is sound goes through, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from clusterlabel.activities.certification import CertificationActivities
from clusterlabel.activities.models import CaseView
from clusterlabel.domain import commands
from clusterlabel.interfaces.engine import Engine
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.messages import CaseWorkflowInput, Step
from clusterlabel.workflows.starter import start_case_workflow
from tests.workflows.harness import all_events, api_without_worker, run, view_when

TOKEN = "engine-failed-steps-admin-token"
QUEUE = "engine-failed-steps"
SCREEN = {"accepted": True, "reason": "complete"}
# How many screening updates the engine is still to fail, before the step ("validator": the update is
# rejected, nothing recorded) or after it ("handler": the command recorded, the update failed). Set by each
# test; the worker runs in this process.
failures_to_come = {"validator": 0, "handler": 0}


@workflow.defn(name="CaseWorkflow")
class FailingEngineCaseWorkflow(
    CaseWorkflow,
    kind=CaseWorkflow.kind,
    view=CaseWorkflow.view_type,
    state=CaseWorkflow.state_attribute,
    commands=CaseWorkflow.command_activity,
):
    """The case's workflow, whose engine fails its screening updates with no domain refusal in the failure:
    before the domain sees them, as the server does with an update a workflow task left unanswered, or
    once the step is recorded."""

    @workflow.run
    async def run(self, input: CaseWorkflowInput) -> CaseView:
        return await super().run(input)

    @workflow.update(name="screen")
    async def screen(self, step: Step[commands.Screen]) -> CaseView:  # type: ignore[override]
        view = await self._human_step(step)
        _fail_if_due("handler")
        return view

    @screen.validator
    def _screen_failed_by_the_engine(self, step: Step[commands.Screen]) -> None:
        _fail_if_due("validator")
        self._validate(step)


def _fail_if_due(where: str) -> None:
    if failures_to_come[where] > 0:
        failures_to_come[where] -= 1
        raise ApplicationError(f"the engine failed the update (in its {where})", type="UnprocessedUpdate")


@pytest.mark.parametrize("where", ["validator", "handler"])
def test_a_step_the_engine_fails_is_sent_again_and_taken_once(tmp_path: Path, where: str) -> None:
    """Failed after the step was recorded, the update's id is answered with that failure for good: only a
    fresh id reaches the workflow, which answers the step's key from the record."""

    async def scenario() -> None:
        async with _engine(tmp_path) as (engine, api, case_id):
            failures_to_come[where] = 2
            answer = await api.post(f"/cases/{case_id}/screening", json=SCREEN)
            assert answer.status_code == 200, answer.text
            assert answer.json()["state"] == "assigning"
            assert failures_to_come[where] == 0  # both failures met, and the step still taken
            assert _screenings(engine, case_id) == 1

    run(scenario())


def test_a_step_the_engine_keeps_failing_answers_503_and_goes_through_once_sent_again(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with _engine(tmp_path) as (engine, api, case_id):
            failures_to_come["validator"] = 10**6
            refused = await api.post(f"/cases/{case_id}/screening", json=SCREEN)
            assert refused.status_code == 503, refused.text
            assert refused.json()["detail"].startswith("the workflow engine did not take the step; try again")
            assert refused.headers["Retry-After"]
            assert _screenings(engine, case_id) == 0

            failures_to_come["validator"] = 0
            taken = await api.post(f"/cases/{case_id}/screening", json=SCREEN)  # the same Idempotency-Key
            assert taken.status_code == 200, taken.text
            assert taken.json()["state"] == "assigning"
            assert _screenings(engine, case_id) == 1

    run(scenario())


@asynccontextmanager
async def _engine(tmp_path: Path) -> AsyncIterator[tuple[Engine, httpx.AsyncClient, UUID]]:
    """The API in process, a worker running the failing engine's case workflow, and a case in screening."""
    engine, client, office, transport = await api_without_worker(tmp_path, TOKEN, QUEUE)
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "screen-1"}
    worker = Worker(
        client,
        task_queue=QUEUE,
        workflows=[FailingEngineCaseWorkflow],
        activities=CertificationActivities(engine.app).all(),
        activity_executor=ThreadPoolExecutor(max_workers=4),
        workflow_runner=UnsandboxedWorkflowRunner(),  # the failures to come are this module's, shared
    )
    try:
        case_id = office.submit(office.cluster())
        async with (
            worker,
            httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as api,
        ):
            case = await start_case_workflow(client, case_id, QUEUE)
            await view_when(case, lambda view: view.state == "screening")
            yield engine, api, case_id
    finally:
        failures_to_come.update(validator=0, handler=0)
        await engine.stop()


def _screenings(engine: Any, case_id: UUID) -> int:
    return sum(1 for e in all_events(engine.app) if e.originator_id == case_id and "Screen" in e.topic)
