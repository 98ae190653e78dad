"""The client side of the workflows, for the HTTP API and the CLI: start them, step them, tell them.

Not workflow code (it talks to the Temporal service); it lives here because it knows the workflows'
ids, messages and handlers.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import MethodAsyncSingleParam, UpdateMethodMultiParam

from clusterlabel.activities.models import CaseView, ComplaintView, DeliveryOutcome, LabelView
from clusterlabel.activities.webhook_delivery import WebhookOutcome
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.policy import Policy
from clusterlabel.workflows.case import CaseWorkflow, case_workflow_id
from clusterlabel.workflows.complaint import ComplaintWorkflow, complaint_workflow_id
from clusterlabel.workflows.delivery import DeliveryWorkflow, delivery_workflow_id
from clusterlabel.workflows.label import LabelWorkflow, label_workflow_id
from clusterlabel.workflows.messages import (
    CaseWorkflowInput,
    ComplaintWorkflowInput,
    DeliveryWorkflowInput,
    ExpertsChanged,
    LabelWorkflowInput,
    Step,
    WebhookDeliveryInput,
)
from clusterlabel.workflows.record import RecordWorkflow
from clusterlabel.workflows.webhook_delivery import WebhookDeliveryWorkflow, webhook_delivery_workflow_id

R = TypeVar("R")
P = TypeVar("P")
C = TypeVar("C", bound=Command)

# One workflow per record, for ever: a start finds the running one (USE_EXISTING) and is refused for a
# record whose workflow has ended (REJECT_DUPLICATE), so a retried start never revives a closed case.
ONCE: dict[str, Any] = {
    "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
    "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
}
# A message's delivery may run again under its id (a message queued again after failing); the message
# itself says whether there is anything to send, so a second run for a sent message records nothing.
AGAIN_WHEN_ENDED: dict[str, Any] = {
    "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
    "id_reuse_policy": WorkflowIDReusePolicy.ALLOW_DUPLICATE,
}
# Cases waiting for an expert are in state `assigning`; the signal is harmless to the others.
WAITING_FOR_EXPERTS = 'WorkflowType="CaseWorkflow" AND ExecutionStatus="Running" AND CaseState="assigning"'


async def start_case_workflow(
    client: Client, case_id: UUID, task_queue: str, *, label_continue_after: int | None = None
) -> WorkflowHandle[Any, CaseView]:
    """Start the workflow of a submitted case. Starting it again (a retried application) is success:
    it finds the running workflow, and never opens a second run for a case whose workflow has ended."""
    started = CaseWorkflowInput(case_id=case_id, label_continue_after=label_continue_after)
    return await _start_once(client, CaseWorkflow.run, started, case_workflow_id(case_id), task_queue)


async def start_label_workflow(client: Client, label_id: UUID, task_queue: str) -> WorkflowHandle[Any, LabelView]:
    """Start the workflow of a label issued outside a case workflow (normally the case starts it);
    like start_case_workflow, never a second time."""
    started = LabelWorkflowInput(label_id=label_id)
    return await _start_once(client, LabelWorkflow.run, started, label_workflow_id(label_id), task_queue)


async def start_complaint_workflow(
    client: Client, complaint_id: UUID, task_queue: str
) -> WorkflowHandle[Any, ComplaintView]:
    """Start the workflow of a lodged complaint; like start_case_workflow, never a second time."""
    started = ComplaintWorkflowInput(complaint_id=complaint_id)
    return await _start_once(client, ComplaintWorkflow.run, started, complaint_workflow_id(complaint_id), task_queue)


async def start_delivery_workflow(
    client: Client, notification_id: UUID, task_queue: str, policy: Policy
) -> WorkflowHandle[Any, DeliveryOutcome]:
    """Start sending a queued message, trying as the policy says; finds the run already sending it."""
    attempts, backoff = policy.delivery_attempts, timedelta(seconds=policy.delivery_backoff.approximate_seconds())
    return await client.start_workflow(
        DeliveryWorkflow.run,
        DeliveryWorkflowInput(notification_id=notification_id, attempts=attempts, backoff=backoff),
        id=delivery_workflow_id(notification_id),
        task_queue=task_queue,
        **AGAIN_WHEN_ENDED,
    )


async def restart_delivery_workflow(
    client: Client, notification_id: UUID, task_queue: str, policy: Policy, closing_seconds: float = 30.0
) -> WorkflowHandle[Any, DeliveryOutcome]:
    """Start a new run for a message queued again. Its last run recorded the failure and may still be
    closing: a start now would find that run and start nothing, so wait for it to end first."""
    try:
        await asyncio.wait_for(delivery_handle(client, notification_id).result(), closing_seconds)
    except Exception:  # no earlier run, one that failed, or one slow to close: the start below says
        pass
    return await start_delivery_workflow(client, notification_id, task_queue, policy)


async def start_webhook_delivery_workflow(
    client: Client, delivery_id: UUID, task_queue: str, policy: Policy
) -> WorkflowHandle[Any, WebhookOutcome]:
    """Start posting a queued change to its webhook, trying as the policy says; a delivery is never
    queued again, so a start finds the run posting it, or is refused for one that ended (harmless)."""
    backoff = timedelta(seconds=policy.webhook_backoff.approximate_seconds())
    started = WebhookDeliveryInput(delivery_id=delivery_id, attempts=policy.webhook_attempts, backoff=backoff)
    workflow_id = webhook_delivery_workflow_id(delivery_id)
    return await _start_once(client, WebhookDeliveryWorkflow.run, started, workflow_id, task_queue)


async def _start_once(
    client: Client, run: MethodAsyncSingleParam[Any, P, R], started: P, workflow_id: str, task_queue: str
) -> WorkflowHandle[Any, R]:
    """Start a record's one workflow (ONCE); a start again finds the running one, or is refused for one
    that ended, and answers with its handle either way."""
    try:
        return await client.start_workflow(run, started, id=workflow_id, task_queue=task_queue, **ONCE)
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle_for(run, workflow_id)


def webhook_delivery_handle(client: Client, delivery_id: UUID) -> WorkflowHandle[Any, WebhookOutcome]:
    return client.get_workflow_handle_for(WebhookDeliveryWorkflow.run, webhook_delivery_workflow_id(delivery_id))


def delivery_handle(client: Client, notification_id: UUID) -> WorkflowHandle[Any, DeliveryOutcome]:
    return client.get_workflow_handle_for(DeliveryWorkflow.run, delivery_workflow_id(notification_id))


def case_handle(client: Client, case_id: UUID) -> WorkflowHandle[Any, CaseView]:
    return client.get_workflow_handle_for(CaseWorkflow.run, case_workflow_id(case_id))


def label_handle(client: Client, label_id: UUID) -> WorkflowHandle[Any, LabelView]:
    return client.get_workflow_handle_for(LabelWorkflow.run, label_workflow_id(label_id))


def complaint_handle(client: Client, complaint_id: UUID) -> WorkflowHandle[Any, ComplaintView]:
    return client.get_workflow_handle_for(ComplaintWorkflow.run, complaint_workflow_id(complaint_id))


async def help_wanted(handle: WorkflowHandle[Any, Any], timeout: timedelta) -> str | None:
    """Why the record's workflow waits for `resume` (RecordWorkflow.help_wanted), or None; RPCError or
    WorkflowQueryFailedError when no worker answers within `timeout`."""
    wanted: str | None = await handle.query(RecordWorkflow.help_wanted, rpc_timeout=timeout)
    return wanted


async def execute_step(
    handle: WorkflowHandle[Any, Any],
    update: UpdateMethodMultiParam[[Any, Step[C]], R],
    command: C,
    envelope: Envelope,
    update_id: str | None = None,
) -> R:
    """Order a human step (an update such as CaseWorkflow.screen). The update id is the envelope's
    idempotency key unless told otherwise, so a retried request is answered once by the workflow.

    Raises temporalio.client.WorkflowUpdateFailedError whose .cause is an ApplicationError carrying
    the domain's refusal (DomainError.from_details(cause.details[0]) rebuilds it).
    """
    step: Step[C] = Step(command=command, envelope=envelope)
    return await handle.execute_update(update, step, id=update_id or envelope.key)


async def execute_label_step_reviving(
    client: Client,
    label_id: UUID,
    task_queue: str,
    update: UpdateMethodMultiParam[[Any, Step[C]], LabelView],
    command: C,
    envelope: Envelope,
    update_id: str | None = None,
) -> LabelView:
    """Order a step on a label whose workflow may have ended: an appeal against its withdrawal. If no run
    is open, the same request starts a new one to take the step (update-with-start); a withdrawn label's
    run then waits for the panel while the appeal is pending, and goes on with the label if it is upheld."""
    start = WithStartWorkflowOperation(
        LabelWorkflow.run,
        LabelWorkflowInput(label_id=label_id),
        id=label_workflow_id(label_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    step: Step[C] = Step(command=command, envelope=envelope)
    return await client.execute_update_with_start_workflow(
        update, step, start_workflow_operation=start, id=update_id or envelope.key
    )


async def notify_experts_changed(client: Client, reason: str = "") -> int:
    """Tell every case waiting in assignment that experts changed; returns how many were told."""
    told = 0
    async for execution in client.list_workflows(WAITING_FOR_EXPERTS):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        await handle.signal(CaseWorkflow.experts_changed, ExpertsChanged(reason=reason))
        told += 1
    return told
