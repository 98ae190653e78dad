"""ReconcileWorkflow: what a Temporal Schedule runs every few minutes, and its report.

An application saved without its workflow (the process died, or Temporal failed, between the save and
the start) would leave a case no step can reach. The schedule's workflow runs one activity
(workflows/reconciler.py) that starts the workflow of every open record that has none and reports the
workflows that need an operator. Deterministic and stateless: each run is short, and a new one starts
from nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from clusterlabel.workflows.messages import Message

RECONCILE_ACTIVITY = "reconcile"
SCHEDULE_ID = "clusterlabel-reconcile"
# Describing every open record's workflow takes a while on a large register; a stuck run is retried.
ACTIVITY_TIMEOUT = timedelta(minutes=5)
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=3)

# failed, terminated, timed_out, canceled: the workflow ended abnormally; completed: it ended normally
# while the store still has its record open (an inconsistency); stuck: running, but its workflow task
# keeps failing (a bug in workflow code, such as a non-deterministic change), so nothing it waits for happens;
# waiting: running, but an automatic step kept being refused and it waits for `resume`.
ProblemKind = Literal["failed", "terminated", "timed_out", "canceled", "completed", "stuck", "waiting"]


class ReconcileInput(Message):
    """Nothing to say yet; one model so that fields can be added compatibly."""


class WorkflowProblem(Message):
    workflow_id: str
    kind: ProblemKind
    detail: str = ""


class ReconcileReport(Message):
    """What one reconciliation found: the workflows it started and the ones an operator must look at."""

    at: datetime
    open_cases: int = 0
    labels_in_force: int = 0
    messages_queued: int = 0
    open_complaints: int = 0
    started: list[str] = Field(default_factory=list)
    # Running, while the store says the record has concluded (a step saved whose answer the workflow never
    # got, and nobody asked again): told to load its record again (its `reload` signal), it goes on.
    reloaded: list[str] = Field(default_factory=list)
    problems: list[WorkflowProblem] = Field(default_factory=list)


@workflow.defn
class ReconcileWorkflow:
    """Runs the reconcile activity once and returns its ReconcileReport. No signals, queries or updates."""

    @workflow.run
    async def run(self, input: ReconcileInput) -> ReconcileReport:
        report: ReconcileReport = await workflow.execute_activity(
            RECONCILE_ACTIVITY,
            input,
            result_type=ReconcileReport,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        workflow.logger.info("reconciled", extra={"started": len(report.started), "problems": len(report.problems)})
        return report
