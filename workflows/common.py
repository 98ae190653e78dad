"""What both certification workflows share: activity options, error translation, step checks, waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.base import DomainError
    from domain.certification_case import CaseState, check_proposed
    from domain.certification_case import check_case_step as check_domain_case_step
    from domain.label import LABEL_STEPS as LABEL_STEP_RULES
    from domain.label import LabelState
    from domain.label import check_label_step as check_domain_label_step

# Activities are short database commands: a lost worker is noticed after the start-to-close timeout
# and the activity retried elsewhere; its idempotency key makes the retry harmless.
ACTIVITY_TIMEOUT = timedelta(seconds=10)
# Since this patch the commands run as local activities, in the worker that runs the workflow task:
# no round trips through the server to schedule, start and complete each one (the server's CPU is
# what limits throughput here). A local activity lost with its worker runs again when the workflow
# task is retried elsewhere, and its idempotency key makes that harmless too. Histories recorded
# before the patch replay with server-side activities, as they ran.
LOCAL_ACTIVITIES = "local-activities"
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10))
# A refused automatic step (a race with a human step) is looked at again after this pause.
RETRY_PAUSE = timedelta(seconds=1)


async def run_activity(activity: Callable[..., Any], arg: Any) -> Any:
    """Run one activity; a domain refusal surfaces as an ApplicationError with the domain's message."""
    try:
        if workflow.patched(LOCAL_ACTIVITIES):
            return await workflow.execute_local_activity_method(
                activity, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY
            )
        return await workflow.execute_activity_method(
            activity, arg, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY
        )
    except ActivityError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            raise ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True) from None
        raise


def refusal(error: DomainError) -> ApplicationError:
    return ApplicationError(error.message, *error.problems, type=type(error).__name__, non_retryable=True)


# Workflow updates named for the human step, mapped to the domain's step names.
_CASE_UPDATE_STEPS = {
    "screen": "screen",
    "record_agreement": "record_agreement",
    "schedule_audit": "schedule_audit",
    "submit_assessment": "submit_assessment",
    "record_decision": "record_decision",
    "lodge_appeal": "lodge_appeal",
    "decide_appeal": "decide_appeal",
    "withdraw": "withdraw",
}
LABEL_STEPS = {step: LABEL_STEP_RULES[step] for step in ("suspend", "restore", "withdraw")}


def check_case_step(step: str, state: str, proposed_expert_id: UUID | None = None, **details: Any) -> None:
    """Refuse, in the domain's words, a human step that does not fit the case's current state."""
    try:
        if step == "respond_to_proposal":
            domain_step = "accept_assignment" if details["accept"] else "decline_assignment"
            check_proposed(domain_step, CaseState(state), proposed_expert_id, details["expert_id"])
        else:
            check_domain_case_step(_CASE_UPDATE_STEPS[step], CaseState(state))
    except DomainError as error:
        raise refusal(error) from None


def check_label_step(step: str, state: str, label_code: str) -> None:
    try:
        check_domain_label_step(step, LabelState(state), label_code)
    except DomainError as error:
        raise refusal(error) from None


async def wait_until(condition: Callable[[], bool], until: datetime | None) -> bool:
    """Wait for the condition or the instant, whichever comes first; True when the condition holds."""
    if until is None:
        await workflow.wait_condition(condition)
        return True
    delay = (until - workflow.now()).total_seconds()
    if delay <= 0:
        return condition()
    try:
        await workflow.wait_condition(condition, timeout=delay)
    except TimeoutError:
        return condition()
    return True


def step_key(aggregate: str, aggregate_id: UUID, step: str, step_input: Any = None) -> str:
    """The idempotency key of a step: the aggregate, the step and what makes this occurrence unique.

    Human steps use the caller's key or, failing that, the Temporal update id (stable across
    retries of the same update); never activity ids, which restart after continue-as-new.
    """
    occurrence = None
    if step_input is not None:
        occurrence = getattr(step_input, "idempotency_key", None)
        if occurrence is None:
            info = workflow.current_update_info()
            occurrence = info.id if info else None
    parts = [aggregate, str(aggregate_id), step] + ([occurrence] if occurrence else [])
    return ":".join(parts)
