"""The digest's Temporal Schedule: DigestWorkflow once a period (a day at a set hour by default).

Not workflow code (it talks to the Temporal service, like reconciler.py). Durable: the schedule lives in
Temporal, not in a process; after an outage it runs once to catch up (one digest for the period, not one
per missed firing), and a digest already queued for a period is not queued again.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, Schedule, ScheduleHandle, ScheduleIntervalSpec

from clusterlabel.workflows.digest import DigestInput, DigestWorkflow
from clusterlabel.workflows.schedules import ensure_schedule, once_a_period

SCHEDULE_ID = "clusterlabel-digest"
WORKFLOW_ID = "clusterlabel-digest"  # Temporal appends each firing's time


def digest_schedule(task_queue: str, every: timedelta, offset: timedelta) -> Schedule:
    interval = ScheduleIntervalSpec(every=every, offset=offset)
    return once_a_period(DigestWorkflow.run, DigestInput(every=every, offset=offset), WORKFLOW_ID, task_queue, interval)


async def ensure_digest_schedule(
    client: Client, task_queue: str, every: timedelta, offset: timedelta
) -> ScheduleHandle:
    """Create the schedule, or bring an existing one to this period and task queue (a digest an operator
    paused stays paused)."""
    return await ensure_schedule(client, SCHEDULE_ID, digest_schedule(task_queue, every, offset))
