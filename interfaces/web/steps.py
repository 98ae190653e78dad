"""The one way an HTTP request takes a human step: an update of the workflow that orchestrates the record.

The route authorises the caller (one load of the aggregate), builds the command and its envelope, and
`take_step` orders the update; the workflow's activity applies it (the second and last load) and the
update answers with the view the route returns. A refusal arrives as the domain's own error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from starlette.concurrency import run_in_threadpool
from temporalio.client import (
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from clusterlabel.domain.command_base import Command, Envelope, command_key, fresh_occurrence
from clusterlabel.interfaces.logs import get_logger
from clusterlabel.interfaces.web.errors import (
    RETRY_AFTER_SECONDS,
    ApiError,
    closed,
    from_temporal,
    not_ready,
    refusal_of,
)
from clusterlabel.interfaces.web.services import Services
from clusterlabel.workflows.messages import Step
from clusterlabel.workflows.record import RecordWorkflow
from clusterlabel.workflows.starter import execute_step, help_wanted

R = TypeVar("R")
# A step is a few activities long; past this the engine is in trouble and the client should retry.
STEP_TIMEOUT_SECONDS = 30.0
# How long a step waits for a workflow that is not started yet (its starter runs just before).
CATCH_UP_SECONDS = 5.0
CATCH_UP_PAUSE_SECONDS = 0.1
# A page asks a workflow whether it waits for help: a page must not hang on an engine in trouble.
HELP_QUERY_TIMEOUT = timedelta(seconds=2)
NOT_RUNNING = "the record's workflow is not ready for a step yet; try again (with the same Idempotency-Key)"

log = get_logger(__name__)


def step_envelope(actor: str, subject: str, subject_id: UUID, step: str, idempotency_key: str | None) -> Envelope:
    """The envelope of a human step, keyed by the one scheme (domain.commands.command_key)."""
    return Envelope(actor=actor, key=command_key(subject, subject_id, step, fresh_occurrence(idempotency_key)))


async def take_step(
    svc: Services,
    handle: WorkflowHandle[Any, Any],
    update: UpdateMethodMultiParam[[Any, Step[Any]], R],
    command: Command,
    envelope: Envelope,
    *,
    still_open: Callable[[], bool],
    closed_detail: Callable[[], str],
    order: Callable[[str], Awaitable[R]] | None = None,
) -> R:
    """Order the step; wait a moment for a workflow that is about to start. `still_open` and
    `closed_detail` read the record from the store (in a worker thread), only when the update fails.
    `order` orders it, under the update id it is given, otherwise than as an update of `handle` (starting
    the workflow again if need be).

    An update the engine failed without the domain's word (the server rejected it unprocessed, say) is
    sent again under a fresh update id, a little later each time: Temporal would answer the old id with the
    same failure, and the envelope's key, which stays, makes the step happen once however often it is sent.
    Past CATCH_UP_SECONDS it answers 503 (errors.from_temporal), and the caller sends it again."""
    deadline = asyncio.get_running_loop().time() + CATCH_UP_SECONDS
    update_id, resend_pause = envelope.key, CATCH_UP_PAUSE_SECONDS
    while True:
        try:
            ordered = (
                order(update_id) if order is not None else execute_step(handle, update, command, envelope, update_id)
            )
            result = await asyncio.wait_for(ordered, STEP_TIMEOUT_SECONDS)
            svc.wrote()
            return result
        except (WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError, TimeoutError) as error:
            in_time = asyncio.get_running_loop().time() < deadline
            if _unanswered(error) and in_time:
                log.warning(
                    "workflow update failed; sending it again",
                    update_id=update_id,
                    cause=repr(getattr(error, "cause", None)),
                )
                update_id = f"{envelope.key}:again:{uuid4().hex}"
                await asyncio.sleep(resend_pause)
                resend_pause *= 2
                continue
            not_started = isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND
            if not_ready(error) or (not_started and await run_in_threadpool(still_open)):
                if in_time:
                    await asyncio.sleep(CATCH_UP_PAUSE_SECONDS)
                    continue
                # Open, and still no workflow (its starter was held up by an outage; the reconciler starts
                # any left behind), or one that takes no update until its next workflow task succeeds: not
                # closed, so not a 409 that says it takes no more steps.
                raise ApiError(503, NOT_RUNNING, {"Retry-After": RETRY_AFTER_SECONDS}) from None
            detail = await run_in_threadpool(closed_detail) if closed(error) else ""
            raise from_temporal(error, detail) from None


def _unanswered(error: BaseException) -> bool:
    """The engine failed the update, and not with the domain's refusal."""
    return isinstance(error, WorkflowUpdateFailedError) and refusal_of(error) is None


async def resume(handle: WorkflowHandle[Any, Any], closed_detail: str) -> None:
    """Send a record's workflow its `resume` signal (RecordWorkflow.resume); an ended one answers 409."""
    try:
        await handle.signal(RecordWorkflow.resume)
    except RPCError as error:
        raise from_temporal(error, closed_detail) from None


async def waits_for_help(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the record's workflow waits to be told to look again (RecordWorkflow.help_wanted). True when it
    cannot say (the engine away, a query timing out): the signal is then the way out, and an ended workflow
    refuses it."""
    try:
        return await help_wanted(handle, HELP_QUERY_TIMEOUT) is not None
    except (RPCError, WorkflowQueryFailedError):
        return True


async def catch_up(handle: WorkflowHandle[Any, Any]) -> None:
    """A retried step that the record holds already is answered from the record; first its workflow is told
    to load the record again (RecordWorkflow.reload), in case the first attempt's update was lost while its
    command was recorded (the Temporal server stopped in between): else the workflow would go on from the
    state before the step, refusing the next one and keeping the wrong timers. An ended or not yet started
    workflow has nothing to catch up; a server away answers 503, so that the caller retries."""
    try:
        await handle.signal(RecordWorkflow.reload)
    except RPCError as error:
        if not closed(error):
            raise from_temporal(error, "") from None
