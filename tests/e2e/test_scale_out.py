"""Scaled out on PostgreSQL: two workers, one API and one projection runner, each a process of its own.

80 cases (200 under `make soak`: CLUSTERLABEL_SCALE_OUT_CASES) go from application to label through the
HTTP API while one worker is killed (SIGKILL) mid-flight; every case completes, no history holds a duplicated or missing event,
and every view equals a rebuild from the log. And two API processes on one database accept
each other's tokens and refuse a key the other saw used for a different request.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.interfaces.event_store_env import parse_postgres_url
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.projections.factory import open_read_models
from tests.e2e.driver import cluster_body, expert_body
from tests.e2e.engine import ADMIN_TOKEN, HOUR_POLICY, ROOT, TOKEN_LINE, eventually, free_port, policy_toml
from tests.stores import POSTGRES, postgres_schema

CHAIN_KEY = "scale-out-test-chain-key-0123456789abcdef"

pytestmark = pytest.mark.postgres
CASES = int(os.environ.get("CLUSTERLABEL_SCALE_OUT_CASES", "80"))
KILL_AFTER = CASES * 3 // 10  # labels issued before one worker dies
LOG_QUIET_SECONDS = 12.0  # longer than the report's wait for an award's label
DRIVERS = 12


class Process:
    """One clusterlabel command in a child process, its output in a log file."""

    def __init__(self, name: str, args: list[str], directory: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log = directory / f"{name}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "clusterlabel.interfaces.cli", *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


class Driver:
    """A secretariat scripting the API: every write carries an Idempotency-Key and is retried on 503."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, token: str = ADMIN_TOKEN, expect: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        for _ in range(10):
            try:
                answer = httpx.request(method, self.url + path, headers=headers, timeout=60, **kwargs)
            except httpx.TransportError:
                continue
            if answer.status_code != 503:
                break
        assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def case(self, case_id: str) -> dict[str, Any]:
        return self.call("GET", f"/cases/{case_id}")

    def label_one_cluster(self, number: int, scores: list[dict[str, Any]]) -> str:
        cluster_id = self.call("POST", "/clusters", expect=201, json=cluster_body(name=f"Scale Cluster {number}"))[
            "cluster_id"
        ]
        case_id = self.call("POST", "/applications", expect=201, json={"cluster_id": cluster_id, "level": "bronze"})[
            "case_id"
        ]
        self.call("POST", f"/cases/{case_id}/screening", json={"accepted": True, "reason": "complete"})
        expert_id = eventually(lambda: self.case(case_id)["proposed_expert_id"], 120, "a proposal")
        self.call("POST", f"/cases/{case_id}/assignment", token=self.tokens[expert_id], json={"accept": True})
        self.call("POST", f"/cases/{case_id}/agreement", json={"agreed": True})
        self.call(
            "POST",
            f"/cases/{case_id}/assessment",
            token=self.tokens[expert_id],
            json={"indicators": scores, "report": "ok"},
        )
        decision = {"outcome": "award", "rationale": "All criteria met."}
        self.call("POST", f"/cases/{case_id}/decision", token=self.tokens["decider"], json=decision)
        return eventually(lambda: self.case(case_id)["label_id"], 120, "the label")


@pytest.fixture
def database_url() -> Iterator[str]:
    for env in postgres_schema():
        yield f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}?schema={env['POSTGRES_SCHEMA']}"


def test_cases_complete_and_views_equal_a_rebuild_after_a_worker_is_killed(tmp_path: Path, database_url: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_toml(HOUR_POLICY))
    env = {
        **os.environ,
        "CLUSTERLABEL_ADMIN_TOKEN": ADMIN_TOKEN,
        "CLUSTERLABEL_LOG_FORMAT": "json",
        "CLUSTERLABEL_CHAIN_KEY": CHAIN_KEY,  # processes sharing an event store share the chain's key
    }
    common = ["--database-url", database_url]
    with EmbeddedTemporal(tmp_path / "temporal") as temporal:
        port = free_port()
        # One at a time: the first process creates the tables the others then find.
        started = [
            Process(
                "api",
                [
                    "serve",
                    *common,
                    "--temporal",
                    temporal.address,
                    "--no-worker",
                    "--no-projections",
                    "--port",
                    str(port),
                    "--policy",
                    str(policy),
                    "--data-dir",
                    str(tmp_path / "api"),
                ],
                tmp_path,
                env,
            )
        ]
        driver = Driver(f"http://127.0.0.1:{port}")
        try:
            eventually(lambda: _healthy(driver.url), 90, f"the API to be healthy:\n{started[0].tail()}")
            started.append(
                Process(
                    "projections",
                    ["projections", "run", *common, "--data-dir", str(tmp_path / "runner")],
                    tmp_path,
                    env,
                )
            )
            for name in ("worker-1", "worker-2"):
                started.append(
                    Process(
                        name,
                        [
                            "worker",
                            *common,
                            "--temporal",
                            temporal.address,
                            "--policy",
                            str(policy),
                            "--data-dir",
                            str(tmp_path / name),
                        ],
                        tmp_path,
                        env,
                    )
                )
            victim = started[2]
            for number in range(5):
                answer = driver.call("POST", "/experts", expect=201, json=expert_body(name=f"Expert {number}"))
                driver.tokens[answer["expert_id"]] = answer["token"]
            board = {"name": "Board Member", "email": "board@secretariat.example.org", "roles": ["decider"]}
            driver.tokens["decider"] = driver.call("POST", "/accounts", expect=201, json=board)["token"]
            scores = [
                {"code": i["code"], "score": i["max_score"], "evidence": "documented"}
                for i in driver.call("GET", "/indicators?level=bronze")
            ]

            labelled: list[str] = []
            lock = threading.Lock()

            def one(number: int) -> str:
                label_id = driver.label_one_cluster(number, scores)
                with lock:
                    labelled.append(label_id)
                    if len(labelled) == KILL_AFTER:
                        victim.popen.kill()  # SIGKILL: no goodbye, activities and workflow tasks in flight
                return label_id

            with ThreadPoolExecutor(DRIVERS) as pool:
                labels = list(pool.map(one, range(CASES)))
            assert victim.popen.poll() == -signal.SIGKILL
            assert len(set(labels)) == CASES

            app = CertificationApp(env=_eventsourcing_env(database_url))
            _log_holds_still(app)
            _assert_histories_whole(app)
            with open_read_models(_eventsourcing_env(database_url), app) as models:
                eventually(lambda: set(models.lag().values()) == {0}, 60, "the projection runner to catch up")
                started[1].stop()  # the runner stops; then its views must equal a rebuild
                incremental = models.dump()
                models.rebuild()
                assert models.dump() == incremental
                assert models.dashboard(app.clock())["states"]["awarded"] == CASES
        finally:
            for process in reversed(started):
                process.stop()


def test_every_api_process_accepts_the_tokens_and_holds_the_idempotency_keys_another_one_saw(
    tmp_path: Path, database_url: str
) -> None:
    env = {**os.environ, "CLUSTERLABEL_ADMIN_TOKEN": ""}  # none configured: the first API generates one
    common = ["--database-url", database_url]
    with EmbeddedTemporal(tmp_path / "temporal") as temporal:
        started: list[Process] = []
        urls: list[str] = []
        try:
            for name in ("api-1", "api-2"):  # one at a time: the first creates the tables
                port = free_port()
                urls.append(f"http://127.0.0.1:{port}")
                started.append(
                    Process(
                        name,
                        [
                            "serve",
                            *common,
                            "--temporal",
                            temporal.address,
                            "--no-worker",
                            "--no-projections",
                            "--port",
                            str(port),
                            "--data-dir",
                            str(tmp_path / name),
                        ],
                        tmp_path,
                        env,
                    )
                )
                eventually(lambda: _healthy(urls[-1]), 90, f"{name} to be healthy:\n{started[-1].tail()}")
            first, second = (Driver(url) for url in urls)
            (admin,) = TOKEN_LINE.findall(started[0].log.read_text())
            assert "clusterlabel_tokens" in started[0].log.read_text()  # where the hash is kept, as printed
            assert TOKEN_LINE.findall(started[1].log.read_text()) == []  # the second found it in place

            expert = first.call("POST", "/experts", token=admin, expect=201, json=expert_body())
            expert_path = f"/experts/{expert['expert_id']}"
            assert second.call("GET", expert_path, token=expert["token"])["expert_id"] == expert["expert_id"]

            keyed = {"Authorization": f"Bearer {admin}", "Idempotency-Key": "one-key-two-processes"}
            body = cluster_body()
            created = httpx.post(first.url + "/clusters", json=body, headers=keyed, timeout=60)
            assert created.status_code == 201, created.text
            again = httpx.post(second.url + "/clusters", json=body, headers=keyed, timeout=60)
            assert again.json() == created.json()
            other = httpx.post(second.url + "/clusters", json=cluster_body(), headers=keyed, timeout=60)
            assert other.status_code == 422 and other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]

            rotated = _cli(["admin-token", *common, "--data-dir", str(tmp_path / "cli")], env)
            second.call("GET", expert_path, token=admin, expect=401)
            first.call("GET", expert_path, token=rotated)
        finally:
            for process in reversed(started):
                process.stop()


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "clusterlabel.interfaces.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _eventsourcing_env(database_url: str) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", **parse_postgres_url(database_url), "CHAIN_KEY": CHAIN_KEY}


def _log_holds_still(app: CertificationApp, quiet: float = LOG_QUIET_SECONDS) -> None:
    """Wait until nothing has been appended for `quiet` seconds: after the last label, steps still run in
    the background (messages sent, each decision's report frozen by the API, which waits up to 10 s for
    the label), and the views are compared with a rebuild only once the log has stopped growing."""
    deadline = time.monotonic() + 180
    last, since = app.recorder.max_notification_id(), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, "the event log never stopped growing"
        time.sleep(0.5)
        head = app.recorder.max_notification_id()
        if head != last:
            last, since = head, time.monotonic()


def _assert_histories_whole(app: CertificationApp) -> None:
    """Every aggregate's versions run 1..n without a gap, and no command was applied twice."""
    notifications = app.recorder.select_notifications(start=0, limit=1_000_000, inclusive_of_start=False)
    versions: dict[Any, list[int]] = {}
    for notification in notifications:
        versions.setdefault(notification.originator_id, []).append(notification.originator_version)
    for aggregate_id, seen in versions.items():
        assert sorted(seen) == list(range(1, len(seen) + 1)), f"{aggregate_id}: versions {sorted(seen)}"
    for aggregate_id in versions:
        # One command may record several events (an assessment and its report), never one twice.
        steps = [
            (event.command_key, type(event).__name__)
            for event in app.repository.event_store.get(aggregate_id)
            if getattr(event, "command_key", None) is not None
        ]
        assert len(steps) == len(set(steps)), f"{aggregate_id}: a command applied twice"
