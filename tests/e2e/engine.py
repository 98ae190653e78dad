"""A real clusterlabel engine for end-to-end tests: `clusterlabel serve` in a child process, as a user runs it.

Embedded Temporal dev server, worker, projection runner and HTTP API, SQLite store in a temporary data
directory, a policy compressed to seconds; stopped with Ctrl-C (SIGINT) as a user would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from clusterlabel.domain.policy import uniform_durations
from clusterlabel.interfaces.temporal_server import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
ADMIN_TOKEN = "e2e-secretariat-token-0123456789abcdef"
# How `serve` prints the secretariat token it generated at its first start.
TOKEN_LINE = re.compile(r"^\s{4}(\S{40,})\s*$", re.MULTILINE)
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
PORT_ATTEMPTS = 3
T = TypeVar("T")

# Every deadline an hour away unless a module shortens it: nothing fires by surprise during a test.
HOUR_POLICY = uniform_durations("PT1H", "PT30M")


def policy_toml(policy: dict[str, Any]) -> str:
    def value(item: Any) -> str:
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        if isinstance(item, bool):
            return "true" if item else "false"
        return f'"{item}"' if isinstance(item, str) else str(item)

    return "".join(f"{key} = {value(item)}\n" for key, item in policy.items())


@dataclass
class RunningEngine:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    experts: dict[str, str] = field(default_factory=dict)  # expert id -> token
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)  # staff member's name -> account id, token

    def client(self, token: str | None = ADMIN_TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_engine(
    data_dir: Path,
    policy: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    args: Sequence[str] = (),
    healthy: bool = True,
) -> Iterator[RunningEngine]:
    """`clusterlabel serve [args]`; yielded once /health says 200 (or, with healthy=False, once it answers)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    policy_file = data_dir.parent / f"{data_dir.name}-policy.toml"
    policy_file.write_text(policy_toml(policy))
    log_path = data_dir.parent / f"{data_dir.name}-serve.log"
    child_env = {
        **os.environ,
        "CLUSTERLABEL_ADMIN_TOKEN": ADMIN_TOKEN,
        "CLUSTERLABEL_LOG_FORMAT": "json",
        **(env or {}),
    }
    log_path.write_bytes(b"")
    for attempt in range(PORT_ATTEMPTS):
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "clusterlabel.interfaces.cli",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--policy",
            str(policy_file),
            *args,
        ]
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT)
        engine = RunningEngine(f"http://127.0.0.1:{port}", data_dir, process, log_path)
        try:
            wait_until_healthy(engine, answering_is_enough=not healthy)
            break
        except AssertionError:
            # Another process may have taken the free port between our probe and the server's bind.
            if process.poll() is None or "cannot listen" not in engine.log_tail() or attempt == PORT_ATTEMPTS - 1:
                stop(engine)
                raise
    try:
        yield engine
    finally:
        stop(engine)


def wait_until_healthy(engine: RunningEngine, *, answering_is_enough: bool = False) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            raise AssertionError(f"clusterlabel serve exited with {engine.process.returncode}:\n{engine.log_tail()}")
        try:
            status, last = health_of(engine.url)
            if status == 200 or (status is not None and answering_is_enough):
                return
        except httpx.HTTPError as error:
            last = str(error)
        time.sleep(0.2)
    raise AssertionError(f"the engine never became healthy; last answer {last}\n{engine.log_tail()}")


def health_of(url: str) -> tuple[int | None, str]:
    """The status of the engine's /health at `url`, or None when what answers there is not the engine.

    Between choosing a free port and binding it, another test's Temporal Web UI once took the port; its
    single-page app answers every GET, /health included, with 200."""
    answer = httpx.get(f"{url}/health", timeout=5)
    try:
        is_engine = "checks" in answer.json()
    except ValueError:
        is_engine = False
    return (answer.status_code if is_engine else None), answer.text[:200]


def stop(engine: RunningEngine) -> None:
    """Ctrl-C, as a user stops it; the process must end cleanly with everything it started."""
    if engine.process.poll() is None:
        engine.process.send_signal(signal.SIGINT)
        try:
            engine.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            engine.process.kill()
            engine.process.wait()
            raise AssertionError(f"clusterlabel serve did not stop on Ctrl-C:\n{engine.log_tail()}") from None


def eventually(probe: Callable[[], T | None], timeout: float = 30.0, what: str = "condition") -> T:
    """Poll until the probe returns something truthy (what a user refreshing a page sees)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
