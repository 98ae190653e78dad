"""A local activity's result handed over a workflow task later live than on replay: the race behind
PATCHES_FIRST (workflows/common.py), on a history the random interleavings recorded.

The case closed right after its CloseCase local activity. The SDK recorded that activity's marker in
one task's completion and handed its result to the code only in the next task, where the code asked for
the `answer-accepted-steps` patch and recorded its marker. On replay the result comes a task earlier;
a patch first asked for there is "not patched", and the marker a task later fails the replay. Since
PATCHES_FIRST a run asks for all its patches before its first await, so their markers sit in the first
task, where no local activity can be early or late.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from clusterlabel.interfaces.worker import WORKFLOWS
from clusterlabel.workflows.common import (
    CHOOSE_UNDER_LOCK,
    COMMANDS_AS_DATA,
    ONE_MARKER,
    PATCHES_FIRST,
    RECORD_PATCHES,
)
from clusterlabel.workflows.payloads import DATA_CONVERTER
from tests.workflows.harness import run

RACED = Path(__file__).parent / "raced" / "case-closed-after-a-late-local-activity.json"
NONDETERMINISM = "Nondeterminism error"


def test_a_run_recorded_before_patches_first_does_not_replay_after_the_race() -> None:
    failure = replay_failure(json.loads(RACED.read_text(encoding="utf-8")))
    assert failure is not None and NONDETERMINISM in failure and "answer-accepted-steps" in failure


def test_the_same_race_replays_once_the_patches_are_asked_for_first() -> None:
    """The raced history as the code records it now: every patch marker in the first task."""
    recorded_now = with_patches_in_first_task(
        json.loads(RACED.read_text(encoding="utf-8")), [PATCHES_FIRST, *RECORD_PATCHES, CHOOSE_UNDER_LOCK]
    )
    assert replay_failure(recorded_now) is None


def test_the_same_race_replays_with_the_one_marker_that_stands_for_every_patch() -> None:
    """As a case records it since ONE_MARKER: a single patch marker in the first task, every branch taken."""
    recorded_now = with_patches_in_first_task(json.loads(RACED.read_text(encoding="utf-8")), [ONE_MARKER])
    assert replay_failure(recorded_now) is None


def test_a_history_without_the_one_marker_or_its_patches_does_not_replay() -> None:
    """The one marker is what switches the branches on: the same history with no patch marker in its first
    task is a run recorded before every patch, which schedules its commands as server-side activities
    where the history holds local activities' markers (checked, not waved through)."""
    failure = replay_failure(with_patches_in_first_task(json.loads(RACED.read_text(encoding="utf-8")), []))
    assert failure is not None and NONDETERMINISM in failure


def test_the_current_code_does_not_replay_a_history_whose_first_task_lacks_a_patch_it_asks_for() -> None:
    """The replay above is checked, not waved through: a first task missing the marker of a patch that
    changes the commands (the legacy activity names come back without it) fails it."""
    patches = [PATCHES_FIRST, *RECORD_PATCHES, CHOOSE_UNDER_LOCK]
    one_missing = [patch for patch in patches if patch != COMMANDS_AS_DATA]
    failure = replay_failure(with_patches_in_first_task(json.loads(RACED.read_text(encoding="utf-8")), one_missing))
    assert failure is not None and NONDETERMINISM in failure


def replay_failure(history: dict[str, Any]) -> str | None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER)
    result = run(
        replayer.replay_workflow(
            WorkflowHistory.from_json("case-raced", json.dumps(history)), raise_on_replay_failure=False
        )
    )
    return None if result.replay_failure is None else str(result.replay_failure)


# ---- rewriting a history as another version of the code would have recorded it -----------------------


def with_patches_in_first_task(history: dict[str, Any], patches: list[str]) -> dict[str, Any]:
    """The history with its patch markers (and the change-version upserts that follow each) moved into
    the first task's completion, asked for in the order `patches`; event ids renumbered."""
    events = history["events"]
    marker = next(event for event in events if _patch_id(event))
    upsert = next(event for event in events if _is_change_version(event))
    kept = [event for event in events if not _patch_id(event) and not _is_change_version(event)]
    first_done = next(event for event in kept if event["eventType"] == "EVENT_TYPE_WORKFLOW_TASK_COMPLETED")
    moved: list[dict[str, Any]] = []
    for asked, patch in enumerate(patches, start=1):
        moved += [_patch_marker(marker, patch, first_done["eventId"]), _change_version(upsert, patches[:asked])]
    at = kept.index(first_done) + 1
    rewritten = kept[:at] + moved + kept[at:]
    _renumber(rewritten, old_ids={id(event) for event in kept})
    return {**history, "events": rewritten}


def _patch_id(event: dict[str, Any]) -> str | None:
    attributes = event.get("markerRecordedEventAttributes")
    if not attributes or attributes.get("markerName") != "core_patch":
        return None
    patch: str = _decoded(attributes["details"]["patch-data"]["payloads"][0])["id"]
    return patch


def _is_change_version(event: dict[str, Any]) -> bool:
    attributes = event.get("upsertWorkflowSearchAttributesEventAttributes")
    return bool(attributes) and "TemporalChangeVersion" in attributes["searchAttributes"]["indexedFields"]


def _patch_marker(template: dict[str, Any], patch: str, task_completed_id: str) -> dict[str, Any]:
    event = copy.deepcopy(template)
    attributes = event["markerRecordedEventAttributes"]
    attributes["details"]["patch-data"]["payloads"][0]["data"] = _encoded({"id": patch, "deprecated": False})
    attributes["workflowTaskCompletedEventId"] = task_completed_id
    return event


def _change_version(template: dict[str, Any], patches: list[str]) -> dict[str, Any]:
    event = copy.deepcopy(template)
    fields = event["upsertWorkflowSearchAttributesEventAttributes"]["searchAttributes"]["indexedFields"]
    fields["TemporalChangeVersion"]["data"] = _encoded(sorted(patches))
    return event


def _renumber(events: list[dict[str, Any]], old_ids: set[int]) -> None:
    """Number the events 1, 2, … and point every reference (…EventId) at its event's new number."""
    new_number = {event["eventId"]: str(n) for n, event in enumerate(events, start=1) if id(event) in old_ids}

    def point(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("EventId") and isinstance(value, str):
                    node[key] = new_number.get(value, value)
                else:
                    point(value)
        elif isinstance(node, list):
            for value in node:
                point(value)

    for event in events:
        point(event)
    for n, event in enumerate(events, start=1):
        event["eventId"] = str(n)


def _decoded(payload: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(payload["data"]))


def _encoded(value: Any) -> str:
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
