"""What both certification workflows share: running a command, error translation, waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from clusterlabel.activities.legacy import ADDED_SINCE_COMMANDS_AS_DATA, LEGACY_ACTIVITY, legacy_result
    from clusterlabel.activities.models import CaseView, ComplaintView, LabelView, command_run
    from clusterlabel.domain.base import DomainError
    from clusterlabel.domain.command_base import Command, Envelope, command_key
    from clusterlabel.domain.commands import command_name
    from clusterlabel.workflows.messages import Step

V = TypeVar("V", CaseView, LabelView, ComplaintView)

# Activities are short database commands: a lost worker is noticed after the start-to-close timeout
# and the activity retried elsewhere; its idempotency key makes the retry harmless.
ACTIVITY_TIMEOUT = timedelta(seconds=10)
# Since this patch the commands run as local activities, in the worker that runs the workflow task:
# no round trips through the server to schedule, start and complete each one (the server's CPU is
# what limits throughput here). A local activity lost with its worker runs again when the workflow
# task is retried elsewhere, and its idempotency key makes that harmless too. Histories recorded
# before the patch replay with server-side activities, as they ran.
LOCAL_ACTIVITIES = "local-activities"
# Since this patch every command runs through one activity per aggregate (run_case_command,
# run_label_command) with the command as data. Runs recorded before it keep scheduling the activity
# names they used (activities/legacy.py), so their histories replay as they ran.
COMMANDS_AS_DATA = "commands-as-data"
# Since this patch a human step is checked against the workflow's view only by the update validator;
# under the command lock the domain decides, so that a step retried after a crash, already applied to
# the store, is answered with the first result instead of refused by a view that has moved on.
DOMAIN_DECIDES_UNDER_LOCK = "domain-decides-under-lock"
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10))
# A refused automatic step (a race with a human step) is looked at again after this pause.
RETRY_PAUSE = timedelta(seconds=1)
# Since this patch the pause doubles with each refusal in a row (1, 2, 4, 8 s), and after
# REFUSALS_BEFORE_HELP of them the workflow asks the secretariat for help and waits for its `resume`
# signal (or a step that moves the record); a record with no way to ask (a label) looks again every
# UNHEARD_RETRY_PAUSE. A step the domain keeps refusing no longer appends to the history every second
# until the history limit ends the run. Runs recorded before it retried every second, and replay so.
BOUNDED_RETRIES = "bounded-retries"
REFUSALS_BEFORE_HELP = 5
UNHEARD_RETRY_PAUSE = timedelta(hours=1)
# Since this patch a workflow ends only once every step it accepted has its answer (the domain's
# refusal, when it came too late); runs recorded before it could end with an update abandoned.
ANSWER_ACCEPTED_STEPS = "answer-accepted-steps"
# Since this patch a case chooses its next expert and proposes them under the command lock, so that a
# human step (a withdrawal) cannot slip in between; runs recorded before it chose outside the lock.
CHOOSE_UNDER_LOCK = "choose-under-lock"
# Since this patch a local activity gets LOCAL_ATTEMPTS tries (they run inside the workflow task, and
# a long run of them appends a task heartbeat every few seconds); past those (a database outage, a
# bug) it runs as a server-side activity whose retries, up to OUTAGE_RETRY apart, cost the history
# nothing until one succeeds. Runs recorded before it retried the local activity for ever. The tries
# are counted, not timed: a timeout that fires mid-try would cancel a database write in its thread.
BOUNDED_LOCAL_ACTIVITIES = "bounded-local-activities"
LOCAL_ATTEMPTS = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=3
)
# Since this patch a run asks for every patch it uses first thing, before anything is awaited, so that
# all their markers land in its first workflow task. A patch first asked for later, after a local
# activity's result, is not replay-safe: the SDK may record the activity's marker in one task and hand
# its result to the code in the next, where the live run records the patch's marker; on replay it
# hands the result over a task earlier, the code asks for the patch there, is told "not patched", and
# the marker a task later fails the replay (tests/workflows/test_patches_first.py). Runs recorded before
# it ask for each patch where the code needs it, and replay so.
PATCHES_FIRST = "patches-first"
# Since this patch a case awarded a level below the one it applied for issues its label, opens the
# award's appeal window and waits it out (or its appeal) before closing; an upheld appeal's new award
# supersedes that label. Runs recorded before it issued the label and closed at once. Asked through
# awards_appealable(): runs recorded before PATCHES_FIRST must not ask for it mid-history.
AWARD_APPEALS = "award-appeals"
# Since this patch a new label's first run tells the label it supersedes (its `supersedes`) that it is
# superseded: a label superseded at its level by another case's award (a Gold application awarded Bronze) was
# told by no one, the case telling only the label it renews, and waited on its timers. Runs recorded before
# it told no one, and replay so.
TELL_SUPERSEDED = "tell-superseded"
# Since this patch a run no longer waits where nothing it is told wakes it:
# - a case's or a complaint's alarm counts as done only once it was acted on. A human step that moved the
#   record in the same workflow task as the alarm's timer (a worker back after an outage) made the alarm no
#   longer apply; it was counted done all the same, and a deadline still due in the new phase (a
#   complaint's investigation, a second expert's answer) was never acted on: the run waited with no timer;
# - a case waiting for an eligible expert looks again on `resume` too (POST /cases/{id}/resume, or
#   `temporal workflow signal --name resume`), not only when told that experts changed: an expert may
#   become eligible with time alone (an affiliation's cooling-off ends).
# - a case's or a complaint's waiting loop takes its alarms again when an alarm's step comes back with other
#   ones (a worker on a policy with new reminder offsets): it kept the old ones, whose reminders then
#   recorded nothing, and the new offsets were never scheduled.
# Runs recorded before it counted the alarm done, waited for experts_changed alone and kept their alarms,
# and replay so.
NO_SILENT_WAITS = "no-silent-waits"
OUTAGE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
WORKFLOW_ACTOR = "system:workflow"
# The patches a case's and a label's run asked for first (PATCHES_FIRST) when ONE_MARKER came: closed,
# none joins or leaves (runs that asked for them replay against it).
ASKED_FIRST_BEFORE_ONE_MARKER = (
    LOCAL_ACTIVITIES,
    BOUNDED_LOCAL_ACTIVITIES,
    COMMANDS_AS_DATA,
    DOMAIN_DECIDES_UNDER_LOCK,
    BOUNDED_RETRIES,
    ANSWER_ACCEPTED_STEPS,
)
# The patches a case's and a label's run ask for first. A new patch joins the end; none leaves while
# runs that asked for it may replay (its marker in their first task would match nothing).
RECORD_PATCHES = (*ASKED_FIRST_BEFORE_ONE_MARKER,)


# Since this patch a new run records one patch marker, ONE_MARKER, that stands for the nine patches
# before it (MARKED_BY_ONE), instead of one marker each. The SDK follows each marker with an upsert of
# the TemporalChangeVersion search attribute, so a case's first task appended 18 events for its nine
# markers, and the server wrote its visibility record nine times: most of the server's work to open a
# case. Runs recorded before it asked for each patch, and replay so. The set is closed: a patch added
# after it is not in it and is recorded under its own name, asked for first by ask_for_patches_first in
# the runs that ask first (ONE_MARKER's or PATCHES_FIRST's); a run from before PATCHES_FIRST never takes it.
ONE_MARKER = "patches-to-award-appeals"
MARKED_BY_ONE = frozenset((*ASKED_FIRST_BEFORE_ONE_MARKER, PATCHES_FIRST, CHOOSE_UNDER_LOCK, AWARD_APPEALS))


def ask_for_patches_first(*patches: str) -> None:
    """Ask for the run's patches before its first await (see PATCHES_FIRST); the SDK remembers each
    answer for the rest of the run, where the code asks again (through `takes_patch`) when it needs one.
    A run that records ONE_MARKER asks by name only for the patches that came after it."""
    if workflow.patched(ONE_MARKER):
        patches = tuple(patch for patch in patches if patch not in MARKED_BY_ONE)
    elif not workflow.patched(PATCHES_FIRST):
        return
    for patch in patches:
        workflow.patched(patch)


def takes_patch(patch: str) -> bool:
    """Whether this run takes `patch`'s branch: for one of MARKED_BY_ONE, always in a run that began with
    ONE_MARKER, else as the SDK answers for the patch itself; for a later patch, as the SDK answers in a
    run that asks first, never in one from before PATCHES_FIRST (it would record the marker mid-history).
    Only in a run that called ask_for_patches_first before its first await, so that every marker asked
    for here was asked for, and remembered, in its first task."""
    if patch in MARKED_BY_ONE:
        return workflow.patched(ONE_MARKER) or workflow.patched(patch)
    asks_first = workflow.patched(ONE_MARKER) or workflow.patched(PATCHES_FIRST)
    return asks_first and workflow.patched(patch)


async def run_activity(activity: Callable[..., Any] | str, arg: Any, result_type: type | None = None) -> Any:
    """Run one activity; a domain refusal surfaces as an ApplicationError with the domain's details."""
    options: dict[str, Any] = {"start_to_close_timeout": ACTIVITY_TIMEOUT, "retry_policy": ACTIVITY_RETRY}
    if isinstance(activity, str):
        options["result_type"] = result_type
    try:
        if not takes_patch(LOCAL_ACTIVITIES):
            return await _on_the_server(activity, arg, options)
        if not takes_patch(BOUNDED_LOCAL_ACTIVITIES):
            return await _local(activity, arg, options)
        try:
            return await _local(activity, arg, {**options, "retry_policy": LOCAL_ATTEMPTS})
        except ActivityError as error:
            if _refused(error):
                raise
            workflow.logger.warning("local activity kept failing; retrying on the server", extra={"error": str(error)})
            return await _on_the_server(activity, arg, {**options, "retry_policy": OUTAGE_RETRY})
    except ActivityError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            raise ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True) from None
        raise


def _refused(error: ActivityError) -> bool:
    """The domain's refusal (final), not a failure that a later attempt may get past."""
    return isinstance(error.cause, ApplicationError) and error.cause.non_retryable


async def _local(activity: Callable[..., Any] | str, arg: Any, options: dict[str, Any]) -> Any:
    if isinstance(activity, str):
        return await workflow.execute_local_activity(activity, arg, **options)
    return await workflow.execute_local_activity_method(activity, arg, **options)


async def _on_the_server(activity: Callable[..., Any] | str, arg: Any, options: dict[str, Any]) -> Any:
    if isinstance(activity, str):
        return await workflow.execute_activity(activity, arg, **options)
    return await workflow.execute_activity_method(activity, arg, **options)


async def run_command(
    activity: Callable[..., Any],
    subject_id: UUID,
    command: Command,
    envelope: Envelope,
    view_type: type[V],
    current: V | None,
) -> V:
    """Run one command on its aggregate (stamped with the workflow's clock) and return its new view."""
    run = command_run(subject_id, command, envelope.stamped(workflow.now()))
    if command_name(command) in ADDED_SINCE_COMMANDS_AS_DATA or takes_patch(COMMANDS_AS_DATA):
        view: V = await run_activity(activity, run)
        return view
    raw = legacy_result(await run_activity(LEGACY_ACTIVITY[command_name(command)], run, dict))
    if raw is None:  # the old reminder answered nothing: the view is as it was
        assert current is not None
        return current
    return view_type.model_validate(raw)


def refusal(error: DomainError) -> ApplicationError:
    return ApplicationError(error.message, error.details(), type=type(error).__name__, non_retryable=True)


def automatic(aggregate: str, aggregate_id: UUID, step: str) -> Envelope:
    """The envelope of a step the workflow takes itself; `step` names its occurrence (see command_key)."""
    return Envelope(actor=WORKFLOW_ACTOR, key=command_key(aggregate, aggregate_id, step))


def human_step(name: str, command: type[Command], view: type[V]) -> Any:
    """The named update `name` of a workflow, whose argument is a Step of `command`: its validator
    refuses the step out of turn (the workflow's `_validate`) before anything is recorded, and its
    handler takes it (the workflow's `_human_step`) and answers with the new `view`."""

    async def handler(self: Any, step: Any) -> Any:
        return await self._human_step(step)

    def validator(self: Any, step: Any) -> None:
        self._validate(step)

    handler.__name__ = handler.__qualname__ = name  # what callers name the step by (see interfaces/web/steps.py)
    # The update's argument and result types, as Temporal reads them to decode and encode payloads.
    handler.__annotations__ = {"step": Step[command], "return": view}  # type: ignore[valid-type]
    validator.__annotations__ = {"step": Step[command], "return": None}  # type: ignore[valid-type]
    update = workflow.update(name=name)(handler)
    update.validator(validator)
    return update


def view_query(view: type[V]) -> Any:
    """The query `view` of a workflow: the latest view of its record (None until it is loaded), typed as
    `view` so that a client's query decodes it."""

    def query(self: Any) -> Any:
        return self._view

    query.__name__ = query.__qualname__ = "view"
    query.__annotations__ = {"return": view | None}  # as Temporal reads the result's type
    return workflow.query(name="view")(query)


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
