"""What both certification workflows share: activity options, error translation, step checks, waiting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.base import DomainError
    from domain.certification_case import CaseState, CertificationCase
    from domain.label import Label, LabelState

# Activities are short database commands: a lost worker is noticed after the start-to-close timeout
# and the activity retried elsewhere; its idempotency key makes the retry harmless.
ACTIVITY_TIMEOUT = timedelta(seconds=10)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10))
# A refused automatic step (a race with a human step) is looked at again after this pause.
RETRY_PAUSE = timedelta(seconds=1)


async def run_activity(activity: Callable[..., Any], arg: Any) -> Any:
    """Run one activity; a domain refusal surfaces as an ApplicationError with the domain's message."""
    try:
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


@dataclass
class _CaseStateOnly:
    """Just enough of a case for the aggregate's own guards to word a refusal as the domain does."""

    state: CaseState
    proposed_expert_id: UUID | None = None
    check_state = CertificationCase.check_state


@dataclass
class _LabelStateOnly:
    state: LabelState
    label_code: str
    check_state = Label.check_state


# The case states in which each human step is allowed, with the domain's wording of the step.
CASE_STEPS: dict[str, tuple[tuple[CaseState, ...], str]] = {
    "screen": ((CaseState.SCREENING,), "screen the application"),
    "record_agreement": ((CaseState.ASSIGNING,), "record the cluster's agreement"),
    "schedule_audit": ((CaseState.AUDITING,), "schedule the audit"),
    "submit_assessment": ((CaseState.AUDITING,), "submit the assessment"),
    "record_decision": ((CaseState.DECIDING,), "record a decision"),
    "lodge_appeal": ((CaseState.REFUSED,), "appeal"),
    "decide_appeal": ((CaseState.REFUSED,), "decide an appeal"),
}

LABEL_STEPS: dict[str, tuple[tuple[LabelState, ...], str]] = {
    "suspend": ((LabelState.ACTIVE,), "suspend"),
    "restore": ((LabelState.SUSPENDED,), "restore"),
    "withdraw": ((LabelState.ACTIVE, LabelState.SUSPENDED, LabelState.EXPIRED), "withdraw"),
}


def check_case_step(step: str, state: str, proposed_expert_id: UUID | None = None, **details: Any) -> None:
    """Refuse, in the domain's words, a human step that does not fit the case's current state."""
    stand_in = _CaseStateOnly(CaseState(state), proposed_expert_id)
    try:
        if step == "respond_to_proposal":
            verb = "accept the assignment" if details["accept"] else "decline the assignment"
            CertificationCase._check_proposed(stand_in, details["expert_id"], verb)  # type: ignore[arg-type]
        elif step == "withdraw":
            if stand_in.state not in {CaseState.SCREENING, CaseState.ASSIGNING, CaseState.AUDITING, CaseState.DECIDING}:
                raise ApplicationError(
                    f"cannot withdraw: the case is already {state}", type="StepNotAllowed", non_retryable=True
                )
        else:
            allowed, verb = CASE_STEPS[step]
            stand_in.check_state(*allowed, step=verb)  # type: ignore[arg-type]
    except DomainError as error:
        raise refusal(error) from None


def check_label_step(step: str, state: str, label_code: str) -> None:
    allowed, verb = LABEL_STEPS[step]
    try:
        _LabelStateOnly(LabelState(state), label_code).check_state(*allowed, step=verb)  # type: ignore[arg-type]
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
