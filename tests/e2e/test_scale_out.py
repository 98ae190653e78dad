"""Scaled out on PostgreSQL, under every fault at once: two workers, one API and one projection runner, each a
process of its own, on a PostgreSQL server of the test's own (tests/e2e/faulted.py).

25 cases (200 under `make soak`: CLUSTERLABEL_SCALE_OUT_CASES) go through the HTTP API, their stories
interleaved: awarded; awarded, suspended, appealed and the appeal upheld; awarded and the label withdrawn;
awarded and renewed (the renewal awarded); withdrawn before the audit. Meanwhile PostgreSQL is stopped and
the Temporal server is stopped, each for 15 s (a minute under `make soak`:
CLUSTERLABEL_SCALE_OUT_OUTAGE_SECONDS), one worker is killed (SIGKILL) for good, and the API and the
projection runner are SIGKILLed at random moments and started again. Every case and label ends where its
story leads, no history holds a duplicated or missing event, every view equals a rebuild from the log, no
workflow failed and the reconciler finds nothing to start nor any workflow that needs an operator. And two
API processes on one database accept each other's tokens and refuse a key the other saw used for a
different request.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from clusterlabel.activities.application import CertificationApp
from clusterlabel.interfaces.event_store_env import parse_postgres_url
from clusterlabel.interfaces.temporal_client import connect_client
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.projections.factory import open_read_models
from tests.e2e.driver import cluster_body, expert_body
from tests.e2e.engine import (
    ADMIN_TOKEN,
    HOUR_POLICY,
    ROOT,
    TOKEN_LINE,
    eventually,
    free_port,
    health_of,
    policy_toml,
)
from tests.e2e.faulted import Driver, Faults, Process, private_postgres
from tests.stores import POSTGRES, postgres_schema
from tests.workflows.harness import broken_tasks

CHAIN_KEY = "scale-out-test-chain-key-0123456789abcdef"

pytestmark = pytest.mark.postgres
CASES = int(os.environ.get("CLUSTERLABEL_SCALE_OUT_CASES", "25"))
OUTAGE_SECONDS = float(os.environ.get("CLUSTERLABEL_SCALE_OUT_OUTAGE_SECONDS", "15"))
SEED = int(os.environ.get("CLUSTERLABEL_SCALE_OUT_SEED", str(time.time_ns() % 1_000_000)))
LOG_QUIET_SECONDS = 12.0  # longer than the report's wait for an award's label
DRIVERS = 12
# Each story, and the writes it takes (for placing the faults along the run).
STORIES = {"awarded": 7, "appealed": 10, "withdrawn label": 8, "renewed": 13, "withdrawn case": 4}
SET_UP_WRITES = 7  # five experts, a decider and an appeals panel
Expected = list[tuple[str, str, str]]  # ("cases" or "labels", id, the state it must end in)


def story(driver: Driver, number: int, scores: list[dict[str, Any]]) -> Expected:
    """One cluster's story through the API; where each of its records must end."""
    kind = list(STORIES)[number % len(STORIES)]
    case_id = driver.apply(number)
    if kind == "withdrawn case":
        driver.call("POST", f"/cases/{case_id}/screening", json={"accepted": True, "reason": "complete"})
        driver.call("POST", f"/cases/{case_id}/withdrawal", json={"reason": "the cluster withdrew"})
        return [("cases", case_id, "withdrawn")]
    label_id = driver.award(case_id, scores)
    expected = [("cases", case_id, "awarded")]
    if kind == "appealed":
        label = f"/labels/{label_id}"
        driver.call("POST", f"{label}/suspension", json={"reason": "complaint under review"})
        driver.call("POST", f"{label}/appeal", json={"grounds": "The complaint concerned another cluster."})
        upheld = {"upheld": True, "rationale": "The complaint was misdirected."}
        driver.call("POST", f"{label}/appeal/decision", token=driver.tokens["panel"], json=upheld)
    if kind == "withdrawn label":
        driver.call("POST", f"/labels/{label_id}/withdrawal", json={"reason": "misuse"})
        return [*expected, ("labels", label_id, "withdrawn")]
    if kind == "renewed":
        renewal = _renew(driver, label_id)
        renewed = driver.award(renewal, scores)
        return [
            *expected,
            ("labels", label_id, "superseded"),
            ("cases", renewal, "awarded"),
            ("labels", renewed, "active"),
        ]
    return [*expected, ("labels", label_id, "active")]


def _renew(driver: Driver, label_id: str) -> str:
    """The label's renewal case. Its award's case closes a step after the label is issued (and later still
    when a fault delays its workflow): until then the cluster's case at that level is open and a renewal is
    refused, changing nothing, so the secretariat tries again, a second later."""
    deadline = time.monotonic() + OUTAGE_SECONDS + 180
    while True:
        try:
            return str(driver.call("POST", f"/labels/{label_id}/renewal", expect=201)["case_id"])
        except AssertionError as refusal:
            if " 409 " not in str(refusal) or "already has an open" not in str(refusal):
                raise
            assert time.monotonic() < deadline, f"the renewal still refused: {refusal}"
            time.sleep(1.0)


@pytest.fixture
def database_url() -> Iterator[str]:
    for env in postgres_schema():
        yield f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}?schema={env['POSTGRES_SCHEMA']}"


# The suite's ten minutes a test are short for the soak's 200 cases and minute-long outages.
@pytest.mark.timeout(max(600, 300 + CASES * 4 + 4 * OUTAGE_SECONDS))
def test_every_story_ends_where_it_leads_through_outages_and_kills_and_the_views_equal_a_rebuild(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_toml(HOUR_POLICY))
    env = {
        **os.environ,
        "CLUSTERLABEL_ADMIN_TOKEN": ADMIN_TOKEN,
        "CLUSTERLABEL_LOG_FORMAT": "json",
        "CLUSTERLABEL_CHAIN_KEY": CHAIN_KEY,  # processes sharing an event store share the chain's key
    }
    faults = Faults()
    rng = random.Random(SEED)
    with private_postgres() as postgres, EmbeddedTemporal(tmp_path / "temporal") as temporal:
        database_url = postgres.url
        common = ["--database-url", database_url]
        engine = ["--temporal", temporal.address, "--policy", str(policy)]
        port = free_port()
        # One at a time: the first process creates the tables the others then find.
        api = Process(
            "api",
            [
                "serve",
                *common,
                *engine,
                "--no-worker",
                "--no-projections",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "api"),
            ],
            tmp_path,
            env,
        )
        started = [api]
        driver = Driver(f"http://127.0.0.1:{port}", faults, patience=OUTAGE_SECONDS + 180)
        stop_chaos = threading.Event()
        try:
            eventually(lambda: _healthy(driver.url), 90, f"the API to be healthy:\n{api.tail()}")
            runner = Process(
                "projections", ["projections", "run", *common, "--data-dir", str(tmp_path / "runner")], tmp_path, env
            )
            started.append(runner)
            for name in ("worker-1", "worker-2"):
                worker = ["worker", *common, *engine, "--data-dir", str(tmp_path / name)]
                started.append(Process(name, worker, tmp_path, env))
            victim = started[2]
            for number in range(5):
                answer = driver.call("POST", "/experts", expect=201, json=expert_body(name=f"Expert {number}"))
                driver.tokens[answer["expert_id"]] = answer["token"]
            for who, roles in (("decider", ["decider"]), ("panel", ["appeals"])):
                body = {"name": f"Board {who}", "email": f"{who}@secretariat.example.org", "roles": roles}
                driver.tokens[who] = driver.call("POST", "/accounts", expect=201, json=body)["token"]
            scores = [
                {"code": i["code"], "score": i["max_score"], "evidence": "documented"}
                for i in driver.call("GET", "/indicators?level=bronze")
            ]

            def outage(name: str, stop: Callable[[], None], start: Callable[[], None]) -> Callable[[], None]:
                def run() -> None:
                    with faults.during(name, f"(stopped for {OUTAGE_SECONDS:.0f} s at write {driver.steps}) "):
                        stop()
                        try:
                            time.sleep(OUTAGE_SECONDS)
                        finally:
                            start()

                return run

            def kill(process: Process, again: bool) -> Callable[[], None]:
                def run() -> None:
                    with faults.during(f"{process.name} SIGKILL", f"(at write {driver.steps}) "):
                        process.restart() if again else process.popen.kill()
                        if process is api:  # what the drivers meet lasts until it answers again
                            eventually(lambda: _answers(driver.url), 90, f"the API to answer:\n{api.tail()}")

                return run

            writes = SET_UP_WRITES + sum(STORIES[list(STORIES)[n % len(STORIES)]] for n in range(CASES))
            kills = max(2, CASES // 50)
            plan = [
                (int(writes * 0.15), outage("PostgreSQL outage", postgres.stop, postgres.start)),
                (int(writes * 0.30), kill(victim, again=False)),
                (int(writes * 0.45), outage("Temporal outage", temporal.stop, temporal.start)),
                *((int(writes * rng.uniform(0.05, 0.85)), kill(api, again=True)) for _ in range(kills)),
                *((int(writes * rng.uniform(0.05, 0.85)), kill(runner, again=True)) for _ in range(kills)),
            ]
            plan.sort(key=lambda item: item[0])
            failed: list[BaseException] = []
            chaos = _in_background(plan, driver, stop_chaos, failed)
            try:
                with ThreadPoolExecutor(DRIVERS) as pool:
                    stories = list(pool.map(lambda number: story(driver, number, scores), range(CASES)))
            finally:
                stop_chaos.set()
                chaos.join()
            assert failed == [], f"a fault could not be brought about: {failed}"
            assert len(faults.log) == len(plan), f"some faults never came: {faults.report()}"
            assert victim.popen.poll() == -signal.SIGKILL
            for process in (api, runner, started[3]):  # the faults ended no process of themselves
                assert process.popen.poll() is None, f"{process.name} exited:\n{process.tail()}"
            expected = [record for told in stories for record in told]
            labels = [record_id for kind, record_id, _ in expected if kind == "labels"]
            assert len(set(labels)) == len(labels)
            for kind, record_id, state in expected:
                driver.reaches(f"/{kind}/{record_id}", state)
                if (kind, state) == ("cases", "awarded"):
                    _report_frozen(driver, record_id)

            reconciled = _cli(
                ["reconcile", *common, "--temporal", temporal.address, "--data-dir", str(tmp_path / "r")], env
            )
            assert reconciled.endswith("0 workflows started, 0 need an operator"), reconciled
            assert _ended_abnormally(temporal.address) == []

            app = CertificationApp(env=_eventsourcing_env(database_url))
            _log_holds_still(app)
            _assert_histories_whole(app)
            with open_read_models(_eventsourcing_env(database_url), app) as models:
                eventually(lambda: set(models.lag().values()) == {0}, 60, "the projection runner to catch up")
                runner.stop()  # the runner stops; then its views must equal a rebuild
                incremental = models.dump()
                models.rebuild()
                assert models.dump() == incremental
                cases = Counter(state for kind, _, state in expected if kind == "cases")
                counted = models.dashboard(app.clock())["states"]
                assert (counted["awarded"], counted["withdrawn"]) == (cases["awarded"], cases["withdrawn"])
        finally:
            stop_chaos.set()
            print(f"seed {SEED}, {driver.steps} writes\n{faults.report()}")  # what each fault met (pytest -s)
            print(_failed_updates(started))  # last: a failed run's end repeats it (tests/conftest.py)
            for process in reversed(started):
                process.stop()


def _failed_updates(processes: list[Any]) -> str:
    """Why the engine failed updates (the API sends such a step again, and says why in its log): each
    process's last ones."""
    lines = []
    for process in processes:
        failed = [line for line in _log_lines(process) if "workflow update failed" in line]
        if failed:  # a line each: a failed run's end repeats only its last few (tests/conftest.py)
            lines.append(f"{process.name}: {len(failed)} failed updates, the last: {failed[-1]}")
    return "\n".join(lines) or "no process logged a failed update"


def _log_lines(process: Any) -> list[str]:
    try:
        return process.log.read_text(errors="replace").splitlines()
    except OSError:
        return []


def _in_background(
    plan: list[tuple[int, Callable[[], None]]], driver: Driver, stop: threading.Event, failed: list[BaseException]
) -> threading.Thread:
    """Each fault of the plan once the drivers have had that many writes answered, one after another; what
    kept one from being brought about goes to `failed`, and ends the plan."""

    def run() -> None:
        try:
            for threshold, fault in plan:
                while not driver.reached(threshold, timeout=1):
                    if stop.is_set():
                        return
                fault()
        except BaseException as error:
            failed.append(error)

    thread = threading.Thread(target=run, name="faults", daemon=True)
    thread.start()
    return thread


def _ended_abnormally(address: str) -> list[tuple[str, str]]:
    """The workflows that failed, timed out, or were terminated or cancelled, and those a workflow task of
    which failed on a bug (non-determinism, an exception in workflow code), not on the faults."""

    async def listed() -> list[tuple[str, str]]:
        client = await connect_client(address, "default")
        bad = {
            WorkflowExecutionStatus.FAILED,
            WorkflowExecutionStatus.TIMED_OUT,
            WorkflowExecutionStatus.TERMINATED,
            WorkflowExecutionStatus.CANCELED,
        }
        found = []
        async for execution in client.list_workflows():
            if execution.status in bad:
                found.append((execution.id, str(execution.status)))
            found += [
                (execution.id, why)
                for why in await broken_tasks(client.get_workflow_handle(execution.id, run_id=execution.run_id))
            ]
        return found

    return asyncio.run(listed())


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
        return health_of(url)[0] == 200
    except httpx.HTTPError:
        return False


def _answers(url: str) -> bool:
    try:
        return health_of(url)[0] in (200, 503)
    except httpx.HTTPError:
        return False


def _eventsourcing_env(database_url: str) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", **parse_postgres_url(database_url), "CHAIN_KEY": CHAIN_KEY}


def _report_frozen(driver: Driver, case_id: str) -> None:
    """The case's report frozen before the views are compared. The API freezes each decision's report in
    the background, waiting up to 10 s for the label, later still when queued behind others on a loaded
    machine (a run once saw six arrive 40 s after their decisions, past the log's quiet spell), and never
    if it was killed meanwhile; a download freezes it now if it is not yet, once (its command key). It
    answers 409 until the case has recorded its label, a step after the label is issued."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def download() -> httpx.Response | None:
        answer = httpx.get(f"{driver.url}/cases/{case_id}/report.pdf", headers=headers, timeout=120)
        return None if answer.status_code == 409 else answer

    answer = driver.when(download, f"the report of case {case_id} to be frozen", timeout=60)
    assert answer.status_code == 200, f"the report of case {case_id}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers["content-type"] == "application/pdf"


def _log_holds_still(app: CertificationApp, quiet: float = LOG_QUIET_SECONDS) -> None:
    """Wait until nothing has been appended for `quiet` seconds: after the last label, steps still run in
    the background (messages sent; a report frozen late finds it frozen by _report_frozen and records
    nothing), and the views are compared with a rebuild only once the log has stopped growing."""
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
