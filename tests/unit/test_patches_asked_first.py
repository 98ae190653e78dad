"""Every patch the record workflows ask for is asked for first thing in their runs (PATCHES_FIRST in
workflows/common.py): a patch first asked for later is not replay-safe, and one missing from the list
would be."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from clusterlabel.workflows import common
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.complaint import ComplaintWorkflow
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.record import RecordWorkflow

WORKFLOWS_DIR = Path(common.__file__).parent
RECORDS = {"case.py": CaseWorkflow, "label.py": LabelWorkflow, "complaint.py": ComplaintWorkflow}
SHARED = ("common.py", "record.py")  # code every record workflow runs


def patches_asked_in(path: Path, through: tuple[str, ...] = ("workflow.patched", "takes_patch")) -> set[str]:
    """The patch ids `workflow.patched(NAME)` or `takes_patch(NAME)` asks for in a module, NAME resolved in
    workflows.common."""
    asked = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in through:
            (argument,) = node.args
            if isinstance(argument, ast.Name) and argument.id != "patch":  # `patch`: ask_for_patches_first's loop
                asked.add(getattr(common, argument.id))
    return asked


def asked_by(module: str, through: tuple[str, ...] = ("workflow.patched", "takes_patch")) -> set[str]:
    return set().union(*(patches_asked_in(WORKFLOWS_DIR / name, through) for name in (module, *SHARED)))


@pytest.mark.parametrize("module", sorted(RECORDS))
def test_each_record_workflow_asks_first_for_every_patch_its_code_asks_for(module: str) -> None:
    assert asked_by(module) - {common.PATCHES_FIRST, common.ONE_MARKER} <= set(RECORDS[module].patches)


def test_the_one_marker_stands_for_the_nine_patches_before_it_and_no_other() -> None:
    """Runs recorded since ONE_MARKER take every branch of these nine on replay: one more in the set would
    have them replay a branch they never took, one fewer would have them miss one they took."""
    assert {
        "local-activities",
        "bounded-local-activities",
        "commands-as-data",
        "domain-decides-under-lock",
        "bounded-retries",
        "answer-accepted-steps",
        "patches-first",
        "choose-under-lock",
        "award-appeals",
    } == common.MARKED_BY_ONE


def test_takes_patch_is_asked_only_where_the_one_marker_was_asked_first() -> None:
    """Asked in a workflow that does not begin with ask_for_patches_first, ONE_MARKER would be recorded
    mid-history (see PATCHES_FIRST)."""
    allowed = {*RECORDS, *SHARED}
    outside = [path.name for path in WORKFLOWS_DIR.glob("*.py") if "takes_patch" in path.read_text(encoding="utf-8")]
    assert set(outside) <= allowed, outside


LATER_PATCH = "a-patch-after-the-one-marker"


def asked_for(
    monkeypatch: pytest.MonkeyPatch, recorded: set[str], ask: Callable[[], object]
) -> tuple[list[str], object]:
    """The patch ids `ask` puts to the SDK, in order, in a run whose history holds the markers `recorded`,
    and what `ask` returns. Like the SDK's, each answer is remembered for the rest of the run."""
    asked: list[str] = []
    answers: dict[str, bool] = {}

    def patched(patch: str) -> bool:
        asked.append(patch)
        return answers.setdefault(patch, patch in recorded)

    monkeypatch.setattr(common.workflow, "patched", patched)
    return asked, ask()


def asks_first(patches: tuple[str, ...]) -> Callable[[], object]:
    return lambda: common.ask_for_patches_first(*patches)


def test_a_run_with_the_one_marker_asks_first_by_name_only_for_the_patches_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    since_one = {common.ONE_MARKER, LATER_PATCH}
    asked, _ = asked_for(monkeypatch, since_one, asks_first((*CaseWorkflow.patches, LATER_PATCH)))
    assert asked == [common.ONE_MARKER, common.NO_SILENT_WAITS, LATER_PATCH]  # the case's own, then this one
    marked = asked_for(monkeypatch, since_one, lambda: common.takes_patch(common.COMMANDS_AS_DATA))
    assert marked == ([common.ONE_MARKER], True)
    assert asked_for(monkeypatch, since_one, lambda: common.takes_patch(LATER_PATCH)) == (
        [common.ONE_MARKER, LATER_PATCH],
        True,
    )
    assert asked_for(monkeypatch, {common.ONE_MARKER}, lambda: common.takes_patch(LATER_PATCH))[1] is False


def test_a_run_recorded_before_the_one_marker_asks_for_each_patch_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    before_one = {common.PATCHES_FIRST, *CaseWorkflow.patches}
    asked, _ = asked_for(monkeypatch, before_one, asks_first(CaseWorkflow.patches))
    assert asked == [common.ONE_MARKER, common.PATCHES_FIRST, *CaseWorkflow.patches]
    assert asked_for(monkeypatch, before_one, lambda: common.takes_patch(common.AWARD_APPEALS)) == (
        [common.ONE_MARKER, common.AWARD_APPEALS],
        True,
    )
    assert asked_for(monkeypatch, before_one | {LATER_PATCH}, lambda: common.takes_patch(LATER_PATCH)) == (
        [common.ONE_MARKER, common.PATCHES_FIRST, LATER_PATCH],
        True,
    )


def test_a_run_recorded_before_patches_first_never_asks_for_a_later_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked there, it would be recorded mid-history by a run still going: not replay-safe (PATCHES_FIRST)."""
    asked, _ = asked_for(monkeypatch, set(), asks_first((*CaseWorkflow.patches, LATER_PATCH)))
    assert asked == [common.ONE_MARKER, common.PATCHES_FIRST]
    assert asked_for(monkeypatch, set(), lambda: common.takes_patch(LATER_PATCH)) == (
        [common.ONE_MARKER, common.PATCHES_FIRST],
        False,
    )
    assert asked_for(monkeypatch, set(), lambda: common.takes_patch(common.AWARD_APPEALS)) == (
        [common.ONE_MARKER, common.AWARD_APPEALS],
        False,
    )


@pytest.mark.parametrize("workflow_class", list(RECORDS.values()), ids=list(RECORDS))
def test_each_record_workflows_run_begins_by_asking_for_its_patches(workflow_class: type[RecordWorkflow]) -> None:
    run = ast.parse(textwrap.dedent(inspect.getsource(workflow_class.run)))
    awaits = [node for node in ast.walk(run) if isinstance(node, ast.Await)]
    first = min(awaits, key=lambda node: (node.lineno, node.col_offset))
    assert ast.unparse(first.value).startswith("self._begin("), ast.unparse(first)
