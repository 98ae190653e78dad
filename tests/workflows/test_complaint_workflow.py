"""A complaint's deadlines on the time-skipping server, with a compressed policy: an acknowledgement due in
an hour is reminded half an hour before, and escalated once the hour has passed; a complaint taken through
its steps on time is neither, its complainant hears the outcome, and its workflow ends with it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.models import ComplaintView
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.complaint import Complaint, ComplaintOutcome
from clusterlabel.domain.complaint_commands import (
    AcknowledgeComplaint,
    CloseComplaint,
    LodgeComplaint,
    StartInvestigation,
)
from clusterlabel.interfaces.temporal_server import SEARCH_ATTRIBUTES
from clusterlabel.workflows.common import NO_SILENT_WAITS, ONE_MARKER
from clusterlabel.workflows.complaint import ComplaintWorkflow
from clusterlabel.workflows.payloads import DATA_CONVERTER
from clusterlabel.workflows.starter import start_complaint_workflow
from tests.workflows.harness import (
    SECRETARY,
    compressed_policy,
    memory_app,
    outbox,
    result_of,
    run,
    running_worker,
    step,
    time_skipping_server_path,
)
from tests.workflows.test_replay import HISTORIES, RECORD, patch_markers, replay

# complaint-v1 and complaint-v2 hold the runs recorded before ONE_MARKER and before NO_SILENT_WAITS
# (replayed by test_replay.py, never re-recorded).
COMPLAINT_HISTORIES = HISTORIES / "complaint-v3-no-silent-waits"


@asynccontextmanager
async def office() -> AsyncIterator[tuple[WorkflowEnvironment, CertificationApp, str]]:
    """A time-skipping server and a worker on a policy where every deadline is an hour, reminded 30 min before."""
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=time_skipping_server_path(), data_converter=DATA_CONVERTER
    ) as env:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=env.client.namespace, search_attributes=SEARCH_ATTRIBUTES)
        )
        app, queue = memory_app(compressed_policy()), f"complaints-{uuid.uuid4().hex[:8]}"
        async with running_worker(env.client, app, queue):
            yield env, app, queue


async def lodged(env: WorkflowEnvironment, app: CertificationApp, queue: str) -> WorkflowHandle[Any, ComplaintView]:
    key = f"http:complaint:{uuid.uuid4().hex}"
    command = LodgeComplaint(about="ECEI-B-AAAA-BBBB-CCCC", text="Shown after expiry.", cluster_id=uuid.uuid4())
    envelope = Envelope(actor="public", key=key, at=await env.get_current_time())
    handle(app, Complaint.create_id(key), command, envelope)
    return await start_complaint_workflow(env.client, Complaint.create_id(key), queue)


async def keep_and_replay(complaint: WorkflowHandle[Any, ComplaintView], name: str) -> None:
    """Replay the run against the current code, and keep it (in the stored set test_replay.py replays) when
    none is stored yet, or when asked to re-record."""
    history = await complaint.fetch_history()
    assert patch_markers(history) == [(ONE_MARKER, True), (NO_SILENT_WAITS, True)]  # in its first task
    COMPLAINT_HISTORIES.mkdir(parents=True, exist_ok=True)
    if RECORD or not any(COMPLAINT_HISTORIES.glob(f"{name}-*.json")):
        (COMPLAINT_HISTORIES / f"{name}-0.json").write_text(history.to_json())
    await replay([history])


def told(app: CertificationApp, complaint_id: UUID) -> list[tuple[str, str]]:
    """Who was told what about the complaint, in order (its id is in every message's body)."""
    return [(message.recipient, message.kind) for message in outbox(app) if str(complaint_id) in message.body]


def test_an_unacknowledged_complaint_is_reminded_and_then_escalated_to_the_secretariat() -> None:
    async def story() -> None:
        async with office() as (env, app, queue):
            complaint = await lodged(env, app, queue)
            complaint_id = UUID(complaint.id.removeprefix("complaint-"))
            await env.sleep(timedelta(minutes=40))
            assert told(app, complaint_id)[-1] == ("secretariat", "complaint_reminder")
            assert app.load(complaint_id, Complaint).escalations == []

            await env.sleep(timedelta(minutes=30))
            assert told(app, complaint_id) == [
                ("secretariat", "complaint_lodged"),
                ("secretariat", "complaint_reminder"),
                ("secretariat", "complaint_escalation"),
            ]
            escalated = app.load(complaint_id, Complaint)
            assert len(escalated.escalations) == 1 and "acknowledgement deadline" in escalated.escalations[0]
            # Late, but still taken: the acknowledgement moves it on, and the complaint to its outcome.
            view = await complaint.execute_update(ComplaintWorkflow.acknowledge, step(AcknowledgeComplaint()))
            assert view.state == "acknowledged"
            await complaint.execute_update(ComplaintWorkflow.start_investigation, step(StartInvestigation()))
            upheld = CloseComplaint(outcome=ComplaintOutcome.UPHELD, finding="Founded.")
            await complaint.execute_update(ComplaintWorkflow.close, step(upheld))
            assert (await result_of(complaint)).state == "closed"
            await keep_and_replay(complaint, "escalated-then-closed")

    run(story())


def test_a_waiting_complaint_takes_the_reminders_of_a_policy_changed_under_it() -> None:
    """The secretariat moves the reminder from 30 to 15 minutes before the deadline and the worker restarts on
    it: the old reminder finds itself out of the schedule and records nothing, and the new one is still sent
    (the run took its alarms again). It kept the old ones, and no reminder went out at all."""

    async def story() -> None:
        async with office() as (env, app, queue):
            complaint = await lodged(env, app, queue)
            complaint_id = UUID(complaint.id.removeprefix("complaint-"))
            await env.sleep(timedelta(minutes=10))
            app.policy = app.policy.with_overrides({"deadline_reminders": ["PT15M"]})
            await env.sleep(timedelta(minutes=40))  # past the old reminder's instant and the new one's
            assert told(app, complaint_id) == [
                ("secretariat", "complaint_lodged"),
                ("secretariat", "complaint_reminder"),
            ]
            await complaint.terminate("test over")

    run(story())


def test_a_complaint_handled_on_time_is_never_escalated_and_its_workflow_ends_with_the_outcome() -> None:
    async def story() -> None:
        async with office() as (env, app, queue):
            complaint = await lodged(env, app, queue)
            complaint_id = UUID(complaint.id.removeprefix("complaint-"))
            await complaint.execute_update(ComplaintWorkflow.acknowledge, step(AcknowledgeComplaint()))
            await complaint.execute_update(ComplaintWorkflow.start_investigation, step(StartInvestigation()))
            with_outcome = CloseComplaint(outcome=ComplaintOutcome.DISMISSED, finding="The label was valid then.")
            await complaint.execute_update(ComplaintWorkflow.close, step(with_outcome, actor=SECRETARY))

            final: ComplaintView = await result_of(complaint)
            assert (final.state, final.outcome, final.escalations) == ("closed", "dismissed", [])
            complainant = f"complainant:{complaint_id}"
            assert told(app, complaint_id) == [
                ("secretariat", "complaint_lodged"),
                (complainant, "complaint_acknowledged"),
                (complainant, "complaint_outcome"),
            ]

    run(story())


def test_a_step_out_of_turn_is_refused_by_the_workflow_before_anything_is_recorded() -> None:
    async def story() -> None:
        async with office() as (env, app, queue):
            complaint = await lodged(env, app, queue)
            complaint_id = UUID(complaint.id.removeprefix("complaint-"))
            before = app.load(complaint_id, Complaint).version
            try:
                await complaint.execute_update(ComplaintWorkflow.start_investigation, step(StartInvestigation()))
            except Exception as error:
                assert "the complaint is received, not acknowledged" in str(error.__cause__ or error)
            else:
                raise AssertionError("an investigation before the acknowledgement was accepted")
            assert app.load(complaint_id, Complaint).version == before

    run(story())
