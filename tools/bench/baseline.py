"""The bare Temporal baseline: workflows with the real run's shape and nothing inside.

A `Shape` is what the real lifecycle asked of the Temporal server, read from its histories: the
activities, timers and child workflows its main loop issued between one update and the next, and the
same for its children. `MirrorWorkflow` replays that shape with no-op activities, so the ratio of the
two runs is the price of our workflow code, activities and event store over Temporal's own minimum.

The limit is the same shape with every activity a no-op *local* activity (`Plan.local`): run inside
the workflow task, recorded as a marker, with no activity task for the server to schedule, dispatch
and time. Our design can use local activities wherever it wants, so that run is the most this server
allows a lifecycle of our shape; ours against it is `lifecycle.ratio_to_limit`.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Literal

from pydantic import BaseModel, ConfigDict
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # this module defines workflows: the sandbox imports it again
    from clusterlabel.interfaces.settings import DEFAULT_WORKFLOW_SANDBOX
    from clusterlabel.interfaces.worker import WORKFLOW_TASK_POLLERS, workflow_runner

Op = Literal["activity", "timer", "child"]
# Timers the real workflows start are hours away (compressed policy): they are started and then
# cancelled by the next step, never fired during the run.
TIMER = timedelta(hours=1)
ACTIVITY_TIMEOUT = timedelta(seconds=10)


class Plan(BaseModel):
    """What one workflow does: `ops` for its main loop, cut into segments by the updates it takes."""

    model_config = ConfigDict(frozen=True)

    # segments[0] runs before the first update; segments[i] runs after update i. In each, the first
    # activity after an update is the update handler's; the rest run in the main loop.
    segments: list[list[Op]]
    child: Plan | None = None
    # Every activity run as a local activity (the limit), not as an activity task.
    local: bool = False

    @property
    def updates(self) -> int:
        return len(self.segments) - 1

    def count(self, op: Op) -> int:
        own = sum(segment.count(op) for segment in self.segments)
        children = sum(segment.count("child") for segment in self.segments)
        return own + (children * self.child.count(op) if self.child is not None else 0)

    def as_limit(self) -> Plan:
        """The same plan, its children's too, with every activity local."""
        child = self.child.as_limit() if self.child is not None else None
        return self.model_copy(update={"local": True, "child": child})

    def waits_after(self, update: int) -> bool:
        """Whether the main loop still works after update `update` (1-based) before the next one:
        the driver then watches for it (a user refreshing the page), as the real driver does."""
        return update < self.updates and self.segments[update].count("activity") > 1


@activity.defn(name="bench_noop")
def noop() -> None:
    """An activity that does nothing, run on the same thread pool as the real ones."""


async def _noop_activity(plan: Plan) -> None:
    if plan.local:
        await workflow.execute_local_activity(noop, start_to_close_timeout=ACTIVITY_TIMEOUT)
    else:
        await workflow.execute_activity(noop, start_to_close_timeout=ACTIVITY_TIMEOUT)


@workflow.defn(name="BenchMirror")
class MirrorWorkflow:
    """Replays a Plan: its main loop's ops, its updates (`step`, each one no-op activity), its children.

    Updates: step. Queries: settled (the main loop waits for the next update).
    """

    @workflow.init
    def __init__(self, plan: Plan) -> None:
        # The plan here, not only in run(): an update may be handled before run() starts.
        self._plan = plan
        self._steps = 0
        self._settled = False

    def _stepped_past(self, index: int) -> bool:
        return self._steps > index

    @workflow.run
    async def run(self, plan: Plan) -> int:
        for index, segment in enumerate(plan.segments):
            ops = list(segment)
            if index > 0 and "activity" in ops:
                ops.remove("activity")  # the update handler ran this one
            timers = await self._perform(ops, plan)
            if index < plan.updates:
                self._settled = True
                await workflow.wait_condition(partial(self._stepped_past, index))
                self._settled = False
            for timer in timers:
                timer.cancel()
        return self._steps

    async def _perform(self, ops: list[Op], plan: Plan) -> list[asyncio.Task[None]]:
        timers: list[asyncio.Task[None]] = []
        for op in ops:
            if op == "activity":
                await _noop_activity(plan)
            elif op == "timer":
                timers.append(asyncio.ensure_future(workflow.sleep(TIMER)))
            else:
                assert plan.child is not None
                await workflow.start_child_workflow(
                    ChildMirrorWorkflow.run,
                    plan.child,
                    id=f"{workflow.info().workflow_id}-child-{workflow.uuid4().hex[:8]}",
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
        return timers

    @workflow.update
    async def step(self) -> int:
        await _noop_activity(self._plan)
        self._steps += 1
        return self._steps

    @workflow.query
    def settled(self) -> bool:
        return self._settled


@workflow.defn(name="BenchChildMirror")
class ChildMirrorWorkflow:
    """A child (the label's workflow): its ops, then it waits on its last timer, as a label does."""

    @workflow.run
    async def run(self, plan: Plan) -> None:
        timers = 0
        for op in plan.segments[0]:
            if op == "activity":
                await _noop_activity(plan)
            elif op == "timer":
                timers += 1
        for _ in range(max(timers - 1, 0)):
            asyncio.ensure_future(workflow.sleep(TIMER))  # noqa: RUF006 - timers left running, as the case's reminders are
        if timers:
            await workflow.sleep(TIMER)


def mirror_worker(client: Client, task_queue: str, activity_threads: int) -> Worker:
    """A worker configured as interfaces.worker.build_worker configures the real one (its workflow runner too)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[MirrorWorkflow, ChildMirrorWorkflow],
        workflow_runner=workflow_runner(DEFAULT_WORKFLOW_SANDBOX),
        activities=[noop],
        activity_executor=ThreadPoolExecutor(max_workers=activity_threads, thread_name_prefix="bench-noop"),
        max_concurrent_activities=activity_threads,
        workflow_task_poller_behavior=WORKFLOW_TASK_POLLERS,
    )
