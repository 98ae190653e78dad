"""What every child process this project starts in its own session needs (the embedded Temporal server,
the bench's worker): stopped when the interpreter exits, ended at once when it never comes up."""

from __future__ import annotations

import atexit
from collections.abc import Callable


def await_start(wait_ready: Callable[[], None], stop: Callable[[], None], end: Callable[[], None]) -> None:
    """Register `stop` for the interpreter's exit (a child in its own session outlives its parent
    otherwise), then wait until the child is ready; if it never is, `end` it and raise."""
    atexit.register(stop)
    try:
        wait_ready()
    except BaseException:
        end()
        atexit.unregister(stop)  # a child that never came up has nothing left to stop
        raise
