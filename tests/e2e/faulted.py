"""What the scaled-out fault scenario is made of: clusterlabel processes that can be SIGKILLed and started
again, a private PostgreSQL server that can be stopped for an outage without touching anyone else's, and a
secretariat's driver patient enough to wait out every fault.

The private server is the machine's PostgreSQL binaries (/usr/lib/postgresql/*/bin) run as the `postgres`
user (initdb refuses root) in a temporary folder, on a free port: stopping it stops nobody else's tests.
Without the binaries the scenario skips, saying why, except under CI (CI=true), where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from clusterlabel.tools.bench.soak import stop_gracefully
from tests.e2e.driver import cluster_body
from tests.e2e.engine import ADMIN_TOKEN, ROOT, free_port

POSTGRES_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name or 0))
DATABASE = "clusterlabel_faults"
OPERATION_TIMEOUT = 120  # pg_ctl's wait for a start or a stop


class Process:
    """One clusterlabel command in a child process, its output in a log file; killed and started again at will."""

    def __init__(self, name: str, args: list[str], directory: Path, env: dict[str, str]) -> None:
        self.name, self.args, self.env = name, args, env
        self.log = directory / f"{name}.log"
        self.log.write_bytes(b"")
        self.kills = 0
        self.popen = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "clusterlabel.interfaces.cli", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def kill(self) -> None:
        """SIGKILL: no goodbye, whatever it was doing left in flight."""
        self.popen.kill()
        self.popen.wait()
        self.kills += 1

    def restart(self) -> None:
        """SIGKILL, then the same command again (as a supervisor brings a crashed process back)."""
        self.kill()
        self.popen = self._start()

    def stop(self) -> None:
        stop_gracefully(self.popen)


class PrivatePostgres:
    """A PostgreSQL server of the test's own, on a free port, with one database (DATABASE)."""

    def __init__(self) -> None:
        if not POSTGRES_BINARIES:
            message = "no PostgreSQL binaries under /usr/lib/postgresql/*/bin to run a private server for the outage"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        self.bin = POSTGRES_BINARIES[-1]
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="clusterlabel-pg-"))
        self.data = self.home / "data"
        self.running = False
        if os.geteuid() == 0:  # initdb refuses root: the server is the postgres user's
            shutil.chown(self.home, "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        else:
            self.prefix = []

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=OPERATION_TIMEOUT, cwd=self.home
        )
        assert done.returncode == 0, f"{args[0]}: {done.stdout}{done.stderr}"

    def create(self) -> None:
        initdb = str(self.bin / "initdb")
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        self.start()
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DATABASE)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.home / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )
        self.running = True

    def stop(self) -> None:
        """A fast shutdown: every session is cut off, its transaction rolled back."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def close(self) -> None:
        try:
            if self.running or (self.data / "postmaster.pid").exists():
                self.stop()
        finally:
            shutil.rmtree(self.home, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.create()
        yield server
    finally:
        server.close()  # always: a server left running would hold its port and folder


class Faults:
    """Which fault is under way, and what the driver met while it was: the refusals and lost connections."""

    def __init__(self) -> None:
        self.current = "none"
        self.met: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()
        self.log: list[str] = []

    @contextmanager
    def during(self, name: str, detail: str = "") -> Iterator[None]:
        started = time.monotonic()
        with self.lock:
            self.current = name
        try:
            yield
        finally:
            with self.lock:
                self.current = "none"
                self.log.append(f"{name} {detail}took {time.monotonic() - started:.1f} s")

    def saw(self, what: str) -> None:
        with self.lock:
            self.met[(self.current, what)] += 1

    def report(self) -> str:
        lines = [*self.log, *(f"during {fault}: {what} x{n}" for (fault, what), n in sorted(self.met.items()))]
        return "\n".join(lines)


class Driver:
    """A secretariat scripting the API: every write carries an Idempotency-Key and is sent again, under the
    same key, while the API is away (a lost connection) or says the engine is (503), up to `patience` s."""

    def __init__(self, url: str, faults: Faults | None = None, patience: float = 60.0) -> None:
        self.url = url
        self.tokens: dict[str, str] = {}
        self.faults = faults or Faults()
        self.patience = patience
        self.steps = 0
        self.progress = threading.Condition()

    def call(self, method: str, path: str, token: str = ADMIN_TOKEN, expect: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        deadline = time.monotonic() + self.patience
        while True:
            try:
                answer = httpx.request(method, self.url + path, headers=headers, timeout=60, **kwargs)
            except httpx.TransportError as error:
                self.faults.saw(f"{method} {type(error).__name__}")
                assert time.monotonic() < deadline, f"{method} {path}: no answer for {self.patience} s ({error})"
                time.sleep(0.5)
                continue
            if answer.status_code != 503:
                break
            self.faults.saw(f"{method} 503")
            assert time.monotonic() < deadline, f"{method} {path}: 503 for {self.patience} s: {answer.text}"
            time.sleep(0.5)
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        if method != "GET":
            with self.progress:
                self.steps += 1
                self.progress.notify_all()
        return answer.json()

    def reached(self, steps: int, timeout: float) -> bool:
        """Whether `steps` writes have been answered, waiting up to `timeout` s for them."""
        with self.progress:
            return self.progress.wait_for(lambda: self.steps >= steps, timeout)

    def case(self, case_id: str) -> dict[str, Any]:
        return self.call("GET", f"/cases/{case_id}")

    def label(self, label_id: str) -> dict[str, Any]:
        return self.call("GET", f"/labels/{label_id}")

    def when(self, probe: Callable[[], Any], what: str, timeout: float = 120) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := probe()):
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.2)
        return found

    def reaches(self, path: str, state: str, timeout: float = 120) -> None:
        """The record at `path` comes to be in `state` (it may take its workflow a moment after the last step)."""
        self.when(lambda: self.call("GET", path)["state"] == state, f"{path} to be {state}", timeout)

    def award(self, case_id: str, scores: list[dict[str, Any]]) -> str:
        """Screen, staff, assess and award the case; its label's id."""
        self.call("POST", f"/cases/{case_id}/screening", json={"accepted": True, "reason": "complete"})
        expert_id = self.when(lambda: self.case(case_id)["proposed_expert_id"], "a proposal")
        self.call("POST", f"/cases/{case_id}/assignment", token=self.tokens[expert_id], json={"accept": True})
        self.call("POST", f"/cases/{case_id}/agreement", json={"agreed": True})
        body = {"indicators": scores, "report": "ok"}
        self.call("POST", f"/cases/{case_id}/assessment", token=self.tokens[expert_id], json=body)
        decision = {"outcome": "award", "rationale": "All criteria met."}
        self.call("POST", f"/cases/{case_id}/decision", token=self.tokens["decider"], json=decision)
        return str(self.when(lambda: self.case(case_id)["label_id"], "the label"))

    def apply(self, number: int) -> str:
        body = cluster_body(name=f"Scale Cluster {number}")
        cluster_id = self.call("POST", "/clusters", expect=201, json=body)["cluster_id"]
        application = {"cluster_id": cluster_id, "level": "bronze"}
        return str(self.call("POST", "/applications", expect=201, json=application)["case_id"])

    def label_one_cluster(self, number: int, scores: list[dict[str, Any]]) -> str:
        return self.award(self.apply(number), scores)
