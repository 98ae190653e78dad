"""The workflow modules read no clock, no randomness and nothing from outside.

Workers run the workflow code outside Temporal's sandbox by default (interfaces/worker.workflow_runner),
without its run-time checks. The workflow tests run it `checked`; this reads the source of
every workflow module for the calls the sandbox would refuse, so that one on a path no test takes is
found too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import clusterlabel.workflows

WORKFLOW_MODULES = sorted(Path(clusterlabel.workflows.__file__).parent.glob("*.py"))
# Modules of the package that never run inside a workflow (they may read the clock): the client side
# that starts workflows and creates schedules, the relay that wakes delivery workflows, and the
# reconciler's activity.
NOT_WORKFLOW_CODE = {"starter.py", "schedules.py", "digest_schedule.py", "outbox_relay.py", "reconciler.py"}
# What workflow code takes from `workflow` instead (workflow.now(), workflow.random(), workflow.uuid4(),
# activities for anything outside).
NOT_IN_WORKFLOWS = (
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.today",
    "datetime.date.today",
    "time.time",
    "time.time_ns",
    "time.monotonic",
    "time.perf_counter",
    "time.sleep",
    "random",
    "secrets",
    "uuid.uuid1",
    "uuid.uuid4",
    "os.environ",
    "os.getenv",
    "builtins.open",
    "socket",
    "subprocess",
    "threading",
)


def nondeterministic_uses(source: str) -> list[str]:
    """Each use of a name in NOT_IN_WORKFLOWS, as `line: dotted.name`, its imports' aliases resolved."""
    tree = ast.parse(source)
    aliases = {"open": "builtins.open"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({alias.asname or alias.name: alias.name for alias in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module:
            aliases.update({alias.asname or alias.name: f"{node.module}.{alias.name}" for alias in node.names})
    found = []
    for node in ast.walk(tree):
        dotted = _dotted(node, aliases)
        if dotted and any(dotted == name or dotted.startswith(f"{name}.") for name in NOT_IN_WORKFLOWS):
            found.append(f"{node.lineno}: {dotted}")
    return found


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """`a.b.c` for an attribute chain read in code (not the import that names it), its root resolved."""
    if not isinstance(node, ast.Attribute | ast.Name) or isinstance(getattr(node, "ctx", None), ast.Store):
        return None
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


@pytest.mark.parametrize(
    "module", [m for m in WORKFLOW_MODULES if m.name not in NOT_WORKFLOW_CODE], ids=lambda m: m.name
)
def test_workflow_code_reads_no_clock_randomness_or_outside_world(module: Path) -> None:
    assert nondeterministic_uses(module.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from datetime import datetime\ndef f():\n    return datetime.now()\n", "3: datetime.datetime.now"),
        ("import time\ndef f():\n    return time.monotonic()\n", "3: time.monotonic"),
        ("from uuid import uuid4 as new\nx = new\n", "2: uuid.uuid4"),
        ("import os\ndef f():\n    return os.environ['X']\n", "3: os.environ"),
        ("def f(path):\n    return open(path)\n", "2: builtins.open"),
        ("import random\ndef f():\n    return random.choice([1])\n", "3: random.choice"),
    ],
)
def test_the_check_finds_each_kind_of_read(source: str, found: str) -> None:
    assert found in nondeterministic_uses(source)


def test_the_check_lets_workflow_time_and_plain_date_arithmetic_pass() -> None:
    source = (
        "from datetime import datetime, timedelta\nfrom temporalio import workflow\n"
        "def f(at: datetime):\n    return workflow.now() + timedelta(days=1), at.replace(day=1)\n"
    )
    assert nondeterministic_uses(source) == []
