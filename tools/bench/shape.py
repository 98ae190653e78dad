"""Read a finished lifecycle's shape from its Temporal histories: what the baseline must repeat."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from clusterlabel.tools.bench.baseline import Op, Plan

_OPS: dict[int, Op] = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activity",
    EventType.EVENT_TYPE_TIMER_STARTED: "timer",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "child",
}
LOCAL_ACTIVITY_MARKER = "core_local_activity"
# Counted for the report, not repeated by the baseline (the brief: activities, updates and timers).
_NOTED = {
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "search_attribute_upserts",
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow_tasks",
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: "signals_sent",
}


def plan_of(events: Iterable[HistoryEvent], child: Plan | None = None) -> Plan:
    """The ops of one workflow, cut into segments at each accepted update."""
    segments: list[list[Op]] = [[]]
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            segments.append([])
        elif event.event_type in _OPS:
            segments[-1].append(_OPS[event.event_type])
        elif _is_local_activity(event):
            segments[-1].append("activity")  # the baseline runs it as a plain (server-side) activity
    return Plan(segments=segments, child=child)


def _is_local_activity(event: HistoryEvent) -> bool:
    return (
        event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
    )


def noted(events: Iterable[HistoryEvent]) -> Counter[str]:
    return Counter(_NOTED[event.event_type] for event in events if event.event_type in _NOTED)


async def lifecycle_plan(client: Client, workflow_id: str, tally: Counter[str]) -> Plan:
    """The plan of a finished workflow and of its children (the label's workflow), as far as they got."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    tally.update(noted(history.events))
    child: Plan | None = None
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            started = event.child_workflow_execution_started_event_attributes.workflow_execution
            child_history = await client.get_workflow_handle(started.workflow_id).fetch_history()
            tally.update(noted(child_history.events))
            child = plan_of(child_history.events)
    return plan_of(history.events, child)
