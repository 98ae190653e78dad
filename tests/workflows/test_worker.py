"""The `clusterlabel worker` entry point: settings in, a running worker out, stopped by cancellation."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.models import CaseView
from clusterlabel.domain.commands import Screen
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.worker import run_worker
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.messages import Step
from clusterlabel.workflows.search_attributes import CASE_STATE, CLUSTER_ID
from tests.workflows.harness import Secretariat, run, step, view_when

ROOT = Path(__file__).resolve().parents[2]


def screen_step() -> Step[Screen]:
    return step(Screen(accepted=True))


def test_the_worker_started_from_settings_runs_a_submitted_case_and_stops_when_cancelled(tmp_path: Path) -> None:
    async def scenario() -> None:
        with EmbeddedTemporal(tmp_path / "temporal") as server:
            settings = Settings(
                data_dir=tmp_path / "data", temporal_address=server.address, task_queue=f"cli-{uuid.uuid4().hex[:8]}"
            )
            settings.ensure_data_dir()
            worker = asyncio.create_task(run_worker(settings))
            client = await connect_client(server.address, server.namespace)
            office = Secretariat(CertificationApp(env=settings.eventsourcing_env()), client, settings.task_queue)
            cluster = office.cluster()
            handle = await office.open_case(cluster)
            view = await view_when(handle, lambda v: v.state == "screening")
            assert view.cluster_id == cluster
            attributes = (await handle.describe()).typed_search_attributes
            assert attributes.get(CASE_STATE) == "screening"
            assert attributes.get(CLUSTER_ID) == str(cluster)
            worker.cancel()
            await asyncio.wait_for(asyncio.gather(worker, return_exceptions=True), timeout=30)
            assert worker.done()

    run(scenario())


def test_the_worker_command_stops_cleanly_on_sigterm_as_a_container_is_stopped(tmp_path: Path) -> None:
    root = ROOT
    log = tmp_path / "worker.log"
    with EmbeddedTemporal(tmp_path / "temporal") as server, log.open("wb") as out:
        env = {**os.environ, "CLUSTERLABEL_LOG_FORMAT": "json"}
        command = [
            sys.executable,
            "-m",
            "clusterlabel.interfaces.cli",
            "worker",
            "--temporal",
            server.address,
            "--data-dir",
            str(tmp_path / "data"),
        ]
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "worker running" not in log.read_text(errors="replace"):
                assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0, log.read_text(errors="replace")
        finally:
            if process.poll() is None:
                process.kill()
    assert "worker stopping" in log.read_text(errors="replace")


def test_a_worker_stopped_mid_step_finishes_the_step_it_runs_before_it_exits(tmp_path: Path) -> None:
    """SIGTERM while a command waits for the database: the command completes, its answer reaches the
    caller without any other worker, the step is recorded once, and the worker exits cleanly."""

    async def scenario() -> None:
        with EmbeddedTemporal(tmp_path / "temporal") as server, (tmp_path / "worker.log").open("wb") as out:
            settings = Settings(
                data_dir=tmp_path / "data", temporal_address=server.address, task_queue=f"term-{uuid.uuid4().hex[:8]}"
            )
            settings.ensure_data_dir()
            env = {**os.environ, "CLUSTERLABEL_LOG_FORMAT": "json", "CLUSTERLABEL_TASK_QUEUE": settings.task_queue}
            command = [sys.executable, "-m", "clusterlabel.interfaces.cli", "worker"]
            arguments = ["--temporal", server.address, "--data-dir", str(settings.data_dir)]
            worker = subprocess.Popen([*command, *arguments], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                client = await connect_client(server.address, server.namespace)
                office = Secretariat(CertificationApp(env=settings.eventsourcing_env()), client, settings.task_queue)
                case = await office.open_case(office.cluster())
                await view_when(case, lambda v: v.state == "screening", timeout=60)

                blocker = sqlite3.connect(settings.sqlite_path(), isolation_level=None)
                blocker.execute("BEGIN IMMEDIATE")  # the next write waits for this lock
                step = asyncio.create_task(case.execute_update(CaseWorkflow.screen, screen_step()))
                await asyncio.sleep(1.0)  # the screening command is waiting for the lock now
                worker.send_signal(signal.SIGTERM)
                await asyncio.sleep(1.0)
                blocker.execute("ROLLBACK")

                screened: CaseView = await asyncio.wait_for(step, timeout=30)
                assert screened.state == "assigning"
                assert await asyncio.to_thread(worker.wait, 30) == 0
                topics = [event.topic for event in office.app.recorder.select_events(screened.case_id)]
                assert sum(topic.endswith(".Screened") for topic in topics) == 1
            finally:
                if worker.poll() is None:
                    worker.kill()

    run(scenario())
