"""What the two delivery workflows share: one send, tried with Temporal's retries, then its outcome recorded.

A message (workflows/delivery.py) and a webhook's post (workflows/webhook_delivery.py) go out the same
way; only the activities, the tries and how a last failure reads as an outcome differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Sending:
    """One kind of send: the activity that sends, how long one try may take, the activity that records."""

    send: Callable[..., Any]
    timeout: timedelta
    record: Callable[..., Any]

    async def run(self, arg: Any, tries: RetryPolicy, failed: Callable[[ActivityError], OutcomeT]) -> OutcomeT:
        """`send(arg)` tried by `tries`, its last failure read by `failed`, and the outcome recorded,
        unless the send found nothing to do ("skipped")."""
        try:
            outcome: OutcomeT = await workflow.execute_activity_method(
                self.send, arg, start_to_close_timeout=self.timeout, retry_policy=tries
            )
        except ActivityError as error:
            outcome = failed(error)
        if outcome.status == "skipped":
            return outcome
        return await _recorded(self.record, outcome)


def last_failure(error: ActivityError) -> tuple[str, Any]:
    """The last try's reason, and the first detail it gave (None from a try that timed out: it says no more)."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message, (cause.details[0] if cause.details else None)
    return str(cause or error), None


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
