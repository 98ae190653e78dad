"""What the two delivery workflows share: one send, tried with Temporal's retries, then its outcome recorded.

A message (workflows/delivery.py) and a webhook's post (workflows/webhook_delivery.py) go out the same
way; only the activities, the tries and how a last failure reads as an outcome differ.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from clusterlabel.workflows.common import ACTIVITY_TIMEOUT, LOCAL_ATTEMPTS, OUTAGE_RETRY


class Outcome(Protocol):
    @property
    def status(self) -> str: ...


OutcomeT = TypeVar("OutcomeT", bound=Outcome)


async def send_then_record(
    send: Callable[..., Any],
    arg: Any,
    timeout: timedelta,
    tries: RetryPolicy,
    failed: Callable[[ActivityError], OutcomeT],
    record: Callable[..., Any],
) -> OutcomeT:
    """`send(arg)` tried by `tries`, its last failure read by `failed`, and the outcome recorded by `record`,
    unless the send found nothing to do ("skipped")."""
    try:
        outcome: OutcomeT = await workflow.execute_activity_method(
            send, arg, start_to_close_timeout=timeout, retry_policy=tries
        )
    except ActivityError as error:
        outcome = failed(error)
    if outcome.status == "skipped":
        return outcome
    return await _recorded(record, outcome)


async def _recorded(record: Callable[..., Any], outcome: OutcomeT) -> OutcomeT:
    """Record the outcome: a local activity first (no round trip through the server), and while the store
    is away a server-side one, retried until it is back (never a second send)."""
    try:
        recorded: OutcomeT = await workflow.execute_local_activity_method(
            record, outcome, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=LOCAL_ATTEMPTS
        )
    except ActivityError as error:
        if isinstance(error.cause, ApplicationError) and error.cause.non_retryable:
            raise
        recorded = await workflow.execute_activity_method(
            record, outcome, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=OUTAGE_RETRY
        )
    return recorded
