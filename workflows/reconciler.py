"""The reconciler: every open record has its workflow running, or an operator hears why not.

Not workflow code (it talks to the Temporal service, like starter.py): the activity that
ReconcileWorkflow runs, the Schedule that runs that workflow, and what the secretariat is shown of the
last run. The records come from the event store (activities/open_records.py); each one's workflow is
described, one call per record:
- none: started, as POST /applications would have (USE_EXISTING + REJECT_DUPLICATE, so a race with
  the case's own start or a case workflow starting its label's is harmless);
- running: fine, unless its workflow task keeps failing (stuck: a bug in workflow code, such as a
  non-deterministic change; it retries until a fixed worker is deployed, and then goes on by itself),
  or its record has moved on without it (told to reload: a case concluded, a label ended);
- ended (failed, terminated, timed out, canceled, or completed while its record is still open):
  reported, never restarted: a start would be refused for the id anyway, and the operator decides
  (README: "When a workflow needs an operator"). Except a message's delivery that completed while the
  message is queued: an officer queued it again and its new run was never started, so it is started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from pydantic import BaseModel
from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.open_records import concluded_in_store, label_ended_in_store, open_records, still_open
from clusterlabel.workflows.label import label_workflow_id
from clusterlabel.workflows.reconcile import (
    RECONCILE_ACTIVITY,
    SCHEDULE_ID,
    ProblemKind,
    ReconcileInput,
    ReconcileReport,
    ReconcileWorkflow,
    WorkflowProblem,
)
from clusterlabel.workflows.record import RecordWorkflow
from clusterlabel.workflows.schedules import ensure_schedule, once_a_period
from clusterlabel.workflows.starter import (
    case_handle,
    complaint_handle,
    delivery_handle,
    help_wanted,
    label_handle,
    start_case_workflow,
    start_complaint_workflow,
    start_delivery_workflow,
    start_label_workflow,
    start_webhook_delivery_workflow,
    webhook_delivery_handle,
)

log = structlog.stdlib.get_logger(__name__)

# A workflow task's first attempt is 1; two failures in a row (Temporal's own threshold for "task
# issues") is no passing glitch such as a worker that died mid-task.
STUCK_AT_ATTEMPT = 3
DESCRIBES_AT_ONCE = 16
HELP_QUERY_TIMEOUT = timedelta(seconds=5)

ENDED: dict[WorkflowExecutionStatus, ProblemKind] = {
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
    WorkflowExecutionStatus.CANCELED: "canceled",
    WorkflowExecutionStatus.COMPLETED: "completed",
}
WHAT_TO_DO: dict[str, str] = {
    "stuck": "its workflow task keeps failing (the worker's log says why); deploy the fix and it goes on by itself",
    "completed": "it ended while its record is still open; compare its history with the record's events",
    "waiting": "an automatic step kept being refused; fix the cause, then POST /cases/{id}/resume, "
    "/labels/{ref}/resume or /complaints/{id}/resume",
    "ended": "once the cause is fixed, `temporal workflow reset --type LastWorkflowTask` resumes it",
}


class Reconciler:
    """Starts the missing workflows of one event store's open records and reports the broken ones."""

    def __init__(self, client: Client, app: CertificationApp, task_queue: str) -> None:
        self.client = client
        self.app = app
        self.task_queue = task_queue

    @activity.defn(name=RECONCILE_ACTIVITY)
    async def activity(self, input: ReconcileInput) -> ReconcileReport:
        return await self.reconcile()

    async def reconcile(self) -> ReconcileReport:
        records = await asyncio.to_thread(open_records, self.app)
        at_once = asyncio.Semaphore(DESCRIBES_AT_ONCE)

        async def check(kind: str, record_id: UUID) -> str | Reloaded | WorkflowProblem | None:
            async with at_once:
                return await self._check(kind, record_id)

        outcomes = await asyncio.gather(
            *(check("case", case_id) for case_id in records.case_ids),
            *(check("label", label_id) for label_id in records.label_ids),
            *(check("message", message_id) for message_id in records.message_ids),
            *(check("webhook_delivery", delivery_id) for delivery_id in records.webhook_delivery_ids),
            *(check("complaint", complaint_id) for complaint_id in records.complaint_ids),
        )
        outcomes += await self._labels_left_behind(set(records.label_ids))
        report = ReconcileReport(
            at=datetime.now(UTC),
            open_cases=len(records.case_ids),
            labels_in_force=len(records.label_ids),
            messages_queued=len(records.message_ids),
            open_complaints=len(records.complaint_ids),
            started=[outcome for outcome in outcomes if isinstance(outcome, str) and not isinstance(outcome, Reloaded)],
            reloaded=[str(outcome) for outcome in outcomes if isinstance(outcome, Reloaded)],
            problems=[outcome for outcome in outcomes if isinstance(outcome, WorkflowProblem)],
        )
        log.info("reconciled", started=len(report.started), problems=len(report.problems), open_cases=report.open_cases)
        return report

    async def _labels_left_behind(self, in_force: set[UUID]) -> list[Reloaded]:
        """The running workflows of labels no longer in force, whose label the store has ended while the
        workflow never heard (superseded by another case's award, which tells only the label it renews):
        told to reload, each ends. The labels in force are checked one by one above."""
        checked = {label_workflow_id(label_id) for label_id in in_force}
        queue = self.task_queue.replace("\\", "\\\\").replace("'", "\\'")
        query = f"WorkflowType = 'LabelWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '{queue}'"
        behind = []
        async for execution in self.client.list_workflows(query):
            label_id = _label_id_of(execution.id)
            if execution.id in checked or label_id is None:
                continue
            if await asyncio.to_thread(label_ended_in_store, self.app, label_id):
                try:
                    behind.append(await _reload(self.client.get_workflow_handle(execution.id)))
                except RPCError as error:  # ended by itself since the listing (visibility lags): nothing to tell
                    if error.status != RPCStatusCode.NOT_FOUND:
                        raise
        return behind

    async def _check(self, kind: str, record_id: UUID) -> str | Reloaded | WorkflowProblem | None:
        """The workflow id started (or reloaded), the problem found, or None when the record's workflow runs well."""
        handle: WorkflowHandle[Any, Any] = HANDLES[kind](self.client, record_id)
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            return await self._start(kind, record_id, handle.id)
        if description.status == WorkflowExecutionStatus.RUNNING:
            attempt = description.raw_description.pending_workflow_task.attempt
            if attempt >= STUCK_AT_ATTEMPT:
                return _problem(handle.id, "stuck", f"workflow task attempt {attempt}")
            # A delivery never waits for help.
            wanted = await _help_wanted(handle) if kind not in ("message", "webhook_delivery") else None
            if wanted:
                return _problem(handle.id, "waiting", wanted)
            if kind == "case" and await asyncio.to_thread(concluded_in_store, self.app, record_id):
                return await _reload(handle)
            return None
        # Closed: unless the record closed meanwhile (its workflow ending just after we listed it), report it.
        if description.status is None or not await asyncio.to_thread(still_open, self.app, kind, record_id):
            return None
        if kind == "message" and description.status == WorkflowExecutionStatus.COMPLETED:
            return await self._start(kind, record_id, handle.id)  # queued again, and its new run never started
        return _problem(handle.id, ENDED[description.status], f"{kind} still open in the store")

    async def _start(self, kind: str, record_id: UUID, workflow_id: str) -> str:
        if kind == "case":
            await start_case_workflow(self.client, record_id, self.task_queue)
        elif kind == "label":
            await start_label_workflow(self.client, record_id, self.task_queue)
        elif kind == "webhook_delivery":
            await start_webhook_delivery_workflow(self.client, record_id, self.task_queue, self.app.policy)
        elif kind == "complaint":
            await start_complaint_workflow(self.client, record_id, self.task_queue)
        else:
            await start_delivery_workflow(self.client, record_id, self.task_queue, self.app.policy)
        log.warning("workflow was missing: started", workflow_id=workflow_id, record=kind, record_id=str(record_id))
        return workflow_id


HANDLES: dict[str, Callable[[Client, UUID], WorkflowHandle[Any, Any]]] = {
    "case": case_handle,
    "label": label_handle,
    "message": delivery_handle,
    "webhook_delivery": webhook_delivery_handle,
    "complaint": complaint_handle,
}


class Reloaded(str):
    """The id of a running workflow told to load its record again."""


def _label_id_of(workflow_id: str) -> UUID | None:
    try:
        return UUID(workflow_id.removeprefix(label_workflow_id("")))
    except ValueError:
        return None


async def _reload(handle: WorkflowHandle[Any, Any]) -> Reloaded:
    """A workflow waiting on a record the store has moved past (a step's answer lost with a workflow task, a
    run recorded before a fix that concludes it, a label ended elsewhere): loading the record again, it ends."""
    await handle.signal(RecordWorkflow.reload)
    log.warning("workflow behind its record: told to reload", workflow_id=handle.id)
    return Reloaded(handle.id)


async def _help_wanted(handle: WorkflowHandle[Any, Any]) -> str | None:
    """Why the workflow waits for `resume`, if it does; unknown (None) when no worker answers now."""
    try:
        return await help_wanted(handle, HELP_QUERY_TIMEOUT)
    except (RPCError, WorkflowQueryFailedError) as error:
        log.info("could not ask a workflow whether it waits for help", workflow_id=handle.id, error=str(error))
        return None


def _problem(workflow_id: str, kind: ProblemKind, seen: str) -> WorkflowProblem:
    advice = WHAT_TO_DO.get(kind, WHAT_TO_DO["ended"])
    log.error("workflow needs an operator", workflow_id=workflow_id, problem=kind, seen=seen, advice=advice)
    return WorkflowProblem(workflow_id=workflow_id, kind=kind, detail=f"{seen}: {advice}")


# ---- the schedule ----------------------------------------------------------------------------


def reconcile_schedule(task_queue: str, every: timedelta) -> Schedule:
    interval = ScheduleIntervalSpec(every=every)
    return once_a_period(ReconcileWorkflow.run, ReconcileInput(), SCHEDULE_ID, task_queue, interval)


async def ensure_reconcile_schedule(client: Client, task_queue: str, every: timedelta) -> ScheduleHandle:
    """Create the schedule, or bring an existing one to this interval and task queue (a schedule an
    operator paused stays paused)."""
    return await ensure_schedule(client, SCHEDULE_ID, reconcile_schedule(task_queue, every))


async def reconcile_now(client: Client) -> None:
    """Run the scheduled reconciliation once now (at start-up), unless one is running."""
    await client.get_schedule_handle(SCHEDULE_ID).trigger(overlap=ScheduleOverlapPolicy.SKIP)


# ---- what the secretariat sees ----------------------------------------------------------------


class ReconcileStatus(BaseModel):
    """The last finished scheduled reconciliation: its report, or why there is none."""

    report: ReconcileReport | None = None
    error: str | None = None


async def last_reconciliation(client: Client) -> ReconcileStatus:
    try:
        description = await client.get_schedule_handle(SCHEDULE_ID).describe()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return ReconcileStatus(error="no reconciliation is scheduled: no worker has started yet")
    running = {action.workflow_id for action in description.info.running_actions}  # type: ignore[attr-defined]
    for result in reversed(description.info.recent_actions):
        action: Any = result.action
        if action.workflow_id in running:
            continue
        run = client.get_workflow_handle(
            action.workflow_id, run_id=action.first_execution_run_id, result_type=ReconcileReport
        )
        try:
            return ReconcileStatus(report=await run.result(follow_runs=False))
        except WorkflowFailureError as error:
            when = f"{result.started_at:%Y-%m-%d %H:%M} UTC"
            return ReconcileStatus(error=f"the reconciliation started {when} failed: {error.cause}")
    return ReconcileStatus(error="no reconciliation has finished yet")
