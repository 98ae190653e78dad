"""Every patch the record workflows ask for is asked for first thing in their runs (PATCHES_FIRST in
workflows/common.py): a patch first asked for later is not replay-safe, and one missing from the list
would be."""

from __future__ import annotations

import ast
import inspect
import textwrap
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


def patches_asked_in(path: Path, through: tuple[str, ...] = ("workflow.patched", "patched")) -> set[str]:
    """The patch ids `workflow.patched(NAME)` or `patched(NAME)` asks for in a module, NAME resolved in
    workflows.common."""
    asked = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in through:
            (argument,) = node.args
            if isinstance(argument, ast.Name) and argument.id != "patch":  # `patch`: ask_for_patches_first's loop
                asked.add(getattr(common, argument.id))
    return asked


def asked_by(module: str, through: tuple[str, ...] = ("workflow.patched", "patched")) -> set[str]:
    return set().union(*(patches_asked_in(WORKFLOWS_DIR / name, through) for name in (module, *SHARED)))


@pytest.mark.parametrize("module", sorted(RECORDS))
def test_each_record_workflow_asks_first_for_every_patch_its_code_asks_for(module: str) -> None:
    assert asked_by(module) - {common.PATCHES_FIRST, common.ONE_MARKER} <= set(RECORDS[module].patches)


@pytest.mark.parametrize("module", sorted(RECORDS))
def test_the_one_marker_stands_only_for_patches_that_came_before_it(module: str) -> None:
    """A patch asked through `patched` is taken by every run that began with ONE_MARKER; one added
    after it must be asked by name (workflow.patched), or runs recorded before it would replay its branch."""
    assert asked_by(module, through=("patched",)) <= common.MARKED_BY_ONE


@pytest.mark.parametrize("workflow_class", list(RECORDS.values()), ids=list(RECORDS))
def test_each_record_workflows_run_begins_by_asking_for_its_patches(workflow_class: type[RecordWorkflow]) -> None:
    run = ast.parse(textwrap.dedent(inspect.getsource(workflow_class.run)))
    awaits = [node for node in ast.walk(run) if isinstance(node, ast.Await)]
    first = min(awaits, key=lambda node: (node.lineno, node.col_offset))
    assert ast.unparse(first.value).startswith("self._begin("), ast.unparse(first)
