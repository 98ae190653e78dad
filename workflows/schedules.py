"""Temporal Schedules that start a workflow once a period: the digest's and the reconciler's.

Not workflow code (it talks to the Temporal service, like starter.py). Durable: a schedule lives in
Temporal, not in a process; one run at a time, and after an outage one catch-up run rather than one per
missed period.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

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

MIN_CATCHUP = timedelta(minutes=1)


def once_a_period(
    run: Callable[..., Any], arg: Any, workflow_id: str, task_queue: str, interval: ScheduleIntervalSpec
) -> Schedule:
    """`run(arg)` started as `workflow_id` (Temporal appends each firing's time) at every `interval`."""
    return Schedule(
        action=ScheduleActionStartWorkflow(run, arg, id=workflow_id, task_queue=task_queue),
        spec=ScheduleSpec(intervals=[interval]),
        # A late run still does its period's work (a day late is still worth it); one at a time.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=max(interval.every, MIN_CATCHUP)),
    )


async def ensure_schedule(client: Client, schedule_id: str, wanted: Schedule) -> ScheduleHandle:
    """Create the schedule, or bring an existing one to the wanted period and task queue (keeping its
    state: a schedule an operator paused stays paused). Safe from any number of workers at once."""
    try:
        return await client.create_schedule(schedule_id, wanted)
    except ScheduleAlreadyRunningError:
        pass
    handle = client.get_schedule_handle(schedule_id)

    def update(input: ScheduleUpdateInput) -> ScheduleUpdate | None:
        current = input.description.schedule
        same_periods = _periods(current.spec.intervals) == _periods(wanted.spec.intervals)
        if same_periods and _task_queue(current) == _task_queue(wanted):
            return None
        return ScheduleUpdate(dataclasses.replace(wanted, state=current.state))

    await handle.update(update)
    return handle


def _periods(intervals: Sequence[ScheduleIntervalSpec]) -> list[tuple[timedelta, timedelta]]:
    # No offset and a zero one are the same period (the service may describe either as the other).
    return [(interval.every, interval.offset or timedelta(0)) for interval in intervals]


def _task_queue(schedule: Schedule) -> str | None:
    return getattr(schedule.action, "task_queue", None)
