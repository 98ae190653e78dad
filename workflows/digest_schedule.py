"""The digest's Temporal Schedule: DigestWorkflow once a period (a day at a set hour by default).

Not workflow code (it talks to the Temporal service, like reconciler.py). Durable: the schedule lives in
Temporal, not in a process; after an outage it runs once to catch up (one digest for the period, not one
per missed firing), and a digest already queued for a period is not queued again.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from clusterlabel.workflows.digest import DigestInput, DigestWorkflow

SCHEDULE_ID = "clusterlabel-digest"
WORKFLOW_ID = "clusterlabel-digest"  # Temporal appends each firing's time
MIN_CATCHUP = timedelta(minutes=1)


def digest_schedule(task_queue: str, every: timedelta, offset: timedelta) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DigestWorkflow.run, DigestInput(every=every, offset=offset), id=WORKFLOW_ID, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every, offset=offset)]),
        # A late run still reports its period (a day late is still worth reading); one at a time.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=max(every, MIN_CATCHUP)),
    )


async def ensure_digest_schedule(
    client: Client, task_queue: str, every: timedelta, offset: timedelta
) -> ScheduleHandle:
    """Create the schedule, or bring an existing one to this period and task queue (keeping its state: a
    digest an operator paused stays paused). Safe from any number of workers at once."""
    wanted = digest_schedule(task_queue, every, offset)
    try:
        return await client.create_schedule(SCHEDULE_ID, wanted)
    except ScheduleAlreadyRunningError:
        pass
    handle = client.get_schedule_handle(SCHEDULE_ID)

    def update(input: ScheduleUpdateInput) -> ScheduleUpdate | None:
        current = input.description.schedule
        intervals = [(interval.every, interval.offset) for interval in current.spec.intervals]
        queue = getattr(current.action, "task_queue", None)
        if intervals == [(every, offset)] and queue == task_queue:
            return None
        return ScheduleUpdate(dataclasses.replace(wanted, state=current.state))

    await handle.update(update)
    return handle
