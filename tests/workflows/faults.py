"""Faults a worker process injects into itself, for tests only (tests/workflows/worker_process.py).

CLUSTERLABEL_KILL_AFTER=Screen,CloseCase,... and CLUSTERLABEL_KILL_MARKERS=DIR: the first time each named
command has been written to the event store, the process writes DIR/<command> (the command's subject and
key, as JSON) and exits at once with 137, as a SIGKILL would leave it: the store holds the command, and
Temporal never gets its result. A process started again finds the marker and lets that command through.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clusterlabel.activities.certification import CertificationActivities
from clusterlabel.activities.models import CommandRun

KILL_AFTER = "CLUSTERLABEL_KILL_AFTER"
KILL_MARKERS = "CLUSTERLABEL_KILL_MARKERS"
KILLED = 137  # 128 + SIGKILL: what a supervisor sees of a process the kernel killed


def kill_env(commands: set[str] | frozenset[str], markers: Path) -> dict[str, str]:
    """The environment that makes a worker process die after each of `commands` once."""
    return {KILL_AFTER: ",".join(sorted(commands)), KILL_MARKERS: str(markers)}


def inject_kills_from(environ: Mapping[str, str]) -> None:
    """Make this process die after the commands the environment names (see the module's docstring)."""
    named = {name for name in environ.get(KILL_AFTER, "").split(",") if name}
    if named:
        _die_after(named, Path(environ[KILL_MARKERS]))


def _die_after(commands: set[str], markers: Path) -> None:
    # Wrapped where every case and label command passes once it is saved, before its view is built
    # and returned to Temporal (CertificationActivities.run_case_command / run_label_command).
    handle = CertificationActivities._handle

    def handle_then_die(self: CertificationActivities, run: CommandRun) -> Any:
        result = handle(self, run)
        if run.name in commands and _first_time(markers / run.name, run):
            os._exit(KILLED)  # no cleanup, no flush: the worker vanishes mid workflow task
        return result

    CertificationActivities._handle = handle_then_die  # type: ignore[method-assign]


def _first_time(marker: Path, run: CommandRun) -> bool:
    """Claim the marker (atomically: two threads may finish the same command at once)."""
    try:
        descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as file:
        json.dump({"subject_id": str(run.subject_id), "key": run.envelope.key}, file)
    return True
