"""Many cases open at once, each a CaseWorkflow waiting for its screening (and on its reminder's timer).

The worker runs in a process of its own, so its resident memory is its alone; the dev server's is that
of its whole process group. The default policy keeps every deadline weeks away, so nothing fires.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Self

from temporalio.client import Client

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.handlers import handle
from clusterlabel.domain.base import Level
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.commands import SubmitApplication
from clusterlabel.domain.record_commands import RegisterCluster
from clusterlabel.interfaces.children import await_start
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.worker import start_case_workflow
from clusterlabel.tools.bench.lifecycle import bounded
from clusterlabel.tools.bench.procfs import group_rss_mb, rss_mb
from clusterlabel.tools.bench.store import BenchStores, cluster_profile, registered
from clusterlabel.tools.bench.worker_process import STORE_ENV

STARTS_IN_FLIGHT = 50
READY_TIMEOUT_SECONDS = 60.0
# Far more than the dev server needs here (75-90 cases a second opening 3,000; 46 opening 50,000):
# only a stuck run times out.
SETTLE_SECONDS_PER_CASE = 0.5
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class OpenCaseFigures:
    count: int
    worker_rss_mb: float
    worker_peak_rss_mb: float
    server_rss_mb: float
    server_idle_rss_mb: float
    fill_seconds: float
    open_seconds: float


async def bench_open_cases(stores: BenchStores, count: int) -> OpenCaseFigures:
    directory, env = stores.directory, stores.env("open")
    started = time.perf_counter()
    case_ids = await asyncio.to_thread(_submit_cases, CertificationApp(env=env), count)
    fill_seconds = time.perf_counter() - started
    task_queue = f"bench-open-{uuid.uuid4().hex[:8]}"
    with EmbeddedTemporal(directory / "temporal-open") as server:
        assert server.pid is not None
        server_idle = group_rss_mb(server.pid)
        with WorkerProcess(server.address, server.namespace, task_queue, env, directory) as worker:
            client = await connect_client(server.address, server.namespace)
            started = time.perf_counter()
            await bounded(
                [partial(start_case_workflow, client, case, task_queue) for case in case_ids], STARTS_IN_FLIGHT
            )
            await _all_waiting(client, task_queue, count, timeout=30 + count * SETTLE_SECONDS_PER_CASE)
            open_seconds = time.perf_counter() - started
            worker_rss, worker_peak = rss_mb(worker.pid), rss_mb(worker.pid, "VmHWM")
            server_rss = group_rss_mb(server.pid)
    return OpenCaseFigures(count, worker_rss, worker_peak, server_rss, server_idle, fill_seconds, open_seconds)


def _submit_cases(app: CertificationApp, count: int) -> list[uuid.UUID]:
    case_ids = []
    for n in range(count):
        cluster = RegisterCluster(profile=cluster_profile(n))
        cluster_id = registered(app, cluster, "secretariat:bench", f"bench-open-cluster-{n}")
        application = SubmitApplication(cluster_id=cluster_id, level=Level.BRONZE)
        case_ids.append(
            handle(app, cluster_id, application, Envelope(actor=f"cluster:{cluster_id}", key=f"bench-open-{n}")).id
        )
    return case_ids


async def _all_waiting(client: Client, task_queue: str, count: int, timeout: float) -> None:
    """Until visibility shows every case loaded and waiting in screening (its workflow set CaseState)."""
    query = f'WorkflowType="CaseWorkflow" AND ExecutionStatus="Running" AND CaseState="screening" AND TaskQueue="{task_queue}"'
    deadline = time.monotonic() + timeout
    waiting = 0
    while time.monotonic() < deadline:
        waiting = (await client.count_workflows(query)).count
        if waiting >= count:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"only {waiting} of {count} case workflows were waiting for screening after {timeout:.0f} s")


class WorkerProcess:
    """`python -m clusterlabel.tools.bench.worker_process` as a child in its own session; stopped on exit."""

    def __init__(
        self, address: str, namespace: str, task_queue: str, store_env: Mapping[str, str], log_dir: Path
    ) -> None:
        self.command = [sys.executable, "-m", "clusterlabel.tools.bench.worker_process", address, namespace, task_queue]
        self.store_env = dict(store_env)
        self.log_path = log_dir / "bench-worker.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Self:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
            STORE_ENV: json.dumps(self.store_env),  # in the environment, not argv: it may hold a password
        }
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # a Ctrl-C reaches the bench, which stops the worker in order
            )
        await_start(self._wait_ready, self.stop, self.stop)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the bench worker exited with {self._process.returncode}; see {self.log_path}")
            readable, _, _ = select.select([self._process.stdout], [], [], 0.2)
            if readable and self._process.stdout.readline().strip() == b"READY":
                self._drain_output()
                return
        raise RuntimeError(f"the bench worker was not ready within {READY_TIMEOUT_SECONDS:.0f} s; see {self.log_path}")

    def _drain_output(self) -> None:
        """Copy what the worker prints from now on into its log: an undrained pipe fills up after
        64 KiB, and the worker would then block on its next log line."""
        assert self._process is not None and self._process.stdout is not None
        source, log_path = self._process.stdout, self.log_path

        def copy() -> None:
            with log_path.open("ab") as log, contextlib.suppress(ValueError, OSError):  # closed by stop()
                shutil.copyfileobj(source, log)

        threading.Thread(target=copy, name="bench-worker-output", daemon=True).start()

    def stop(self, timeout: float = 15.0) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        atexit.unregister(self.stop)
        for signum, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, None)):
            try:
                os.killpg(process.pid, signum)
            except ProcessLookupError:
                break
            try:
                process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        if process.stdout is not None:
            process.stdout.close()
