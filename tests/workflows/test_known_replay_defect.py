"""A history the random interleavings recorded that does not replay: a known defect, kept in sight.

A case closed right after its CloseCase local activity; the marker of that activity landed in one
workflow task's completion while the workflow code saw the result only in the next task, where it
recorded the `answer-accepted-steps` patch marker. On replay the SDK hands the result over a task
earlier, the code asks for the patch a task earlier, and Temporal reports non-determinism. The live
run completed correctly; the history cannot be replayed (a query of the closed workflow, or a worker
that lost its cache in that instant, meets the error). Our workflow code is deterministic; the timing of
a local activity's result between tasks is the SDK's. Until it is understood and fixed, this test
expects the failure: the day replay succeeds (an SDK upgrade, or a fix here), it fails and should go.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from clusterlabel.interfaces.worker import WORKFLOWS
from clusterlabel.workflows.payloads import DATA_CONVERTER
from tests.workflows.harness import run

HISTORY = Path(__file__).parent / "unreplayable" / "case-closed-after-a-late-local-activity.json"


@pytest.mark.xfail(strict=True, reason="a local activity's result seen a task later live than on replay")
def test_a_case_closed_right_after_a_late_local_activity_replays() -> None:
    history = WorkflowHistory.from_json("case-known-defect", HISTORY.read_text(encoding="utf-8"))
    replayer = Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER)
    run(replayer.replay_workflow(history))
