"""The certification worker as a child process (tests/workflows/worker_process.py) that a test can kill, a
supervisor that starts it again whenever it dies, and client calls retried through either."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from temporalio.service import RPCError

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """`python -m tests.workflows.worker_process` as a child process, under the policy `overrides` and
    with `env` added to its environment."""

    def __init__(
        self,
        address: str,
        task_queue: str,
        database: Path,
        log: Path,
        overrides: Mapping[str, Any],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.log = log.open("ab")
        command = [sys.executable, "-m", "tests.workflows.worker_process", address, task_queue, str(database)]
        self.process = subprocess.Popen(
            [*command, json.dumps(dict(overrides))],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=self.log,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == b"READY", f"the worker did not start: {line!r}; see {log}"
        # Keep reading what it prints (its logs) into the log file: an undrained pipe fills up
        # after 64 KiB, and the worker then blocks on its next log line, workflows and all.
        self.drain = threading.Thread(target=shutil.copyfileobj, args=(self.process.stdout, self.log), daemon=True)
        self.drain.start()

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.drain.join(5)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)
        self.drain.join(5)
        self.log.close()


class Supervisor:
    """Keeps one worker process running, as a platform restarts a crashed container: whenever it dies,
    a new one starts. `exits` lists the dead ones' exit codes."""

    def __init__(self, start: Callable[[], WorkerProcess]) -> None:
        self.start = start
        self.exits: list[int] = []
        self.worker: WorkerProcess | None = None
        self.watching: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Supervisor:
        self.worker = await asyncio.to_thread(self.start)
        self.watching = asyncio.create_task(self.watch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.watching is not None
        self.watching.cancel()
        try:
            await self.watching
        except asyncio.CancelledError:
            pass
        if self.worker is not None:
            self.worker.stop()

    async def watch(self) -> None:
        while True:
            assert self.worker is not None
            code = self.worker.process.poll()
            if code is None:
                await asyncio.sleep(0.1)
                continue
            self.worker.stop()
            self.exits.append(code)
            self.worker = await self.restart()

    async def restart(self) -> WorkerProcess:
        while True:
            try:
                return await asyncio.to_thread(self.start)
            except AssertionError:  # died before it said READY: once more
                await asyncio.sleep(0.1)


async def persist(call: Callable[[], Awaitable[T]], attempts: int = 120) -> T:
    """A client call retried through a dead worker or a restarting server (update ids make it safe).

    A refused step (WorkflowUpdateFailedError) is a real failure and is never retried.
    """
    for _ in range(attempts - 1):
        try:
            return await call()
        except (TimeoutError, RPCError, RuntimeError):
            await asyncio.sleep(0.5)
    return await call()
