"""`clusterlabel bench --soak MINUTES`: lifecycles without pause on PostgreSQL, the engine scaled out.

Two workers, the API and a projection runner run as separate processes (`clusterlabel worker`,
`serve --no-worker --no-projections`, `projections run`) on a fresh schema and an embedded dev server,
as tests/e2e/test_scale_out.py starts them. DRIVERS threads take Bronze cases from application to label
through the HTTP API, one after another, for MINUTES. Reported: lifecycles completed per minute, the
lifecycles that failed (`errors`), the projection lag's p99 (the log's head against the slowest view,
sampled from this process on the shared tables) and each process's resident memory from the end of the
warm-up to the end, its growth in percent (`rss_growth_pct`: the largest of them).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from clusterlabel.interfaces.temporal_server import EmbeddedTemporal, free_port
from clusterlabel.projections.factory import open_read_models
from clusterlabel.tools.bench.lag import Lag, LagSampler
from clusterlabel.tools.bench.procfs import group_rss_mb, tree_rss_mb
from clusterlabel.tools.bench.store import BenchStores

T = TypeVar("T")
DRIVERS = 4
EXPERTS = 5
WARM_UP_LIFECYCLES = 2
WAIT_SECONDS = 120.0
MEMORY_SAMPLE_SECONDS = 5.0
ADMIN_TOKEN = f"bench-soak-{uuid.uuid4().hex}"
NOTE = (
    f"soak: {DRIVERS} drivers through the HTTP API, two workers, the API and a projection runner as processes "
    "on PostgreSQL, an embedded dev server; lag sampled from the bench's process; memory growth from the end "
    "of the warm-up to the end, the largest of the processes (the dev server included)"
)


def stop_gracefully(popen: subprocess.Popen[Any], within: float = 30.0) -> None:
    """SIGTERM, as a supervisor stops a process; killed if it has not ended `within` seconds later.
    Not Ctrl-C's SIGINT: a bench started in the background (`nohup … &`) passes SIGINT on ignored."""
    if popen.poll() is None:
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(within)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


class Process:
    """One `clusterlabel` command in a child process, its output in a log file."""

    def __init__(self, name: str, args: list[str], directory: Path, env: Mapping[str, str]) -> None:
        self.name, self.log = name, directory / f"{name}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "clusterlabel.interfaces.cli", *args],
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        stop_gracefully(self.popen)


class Api:
    """The secretariat, the experts and the board scripting the HTTP API; 503s retried as a client would."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tokens: dict[str, str] = {"admin": ADMIN_TOKEN}
        self.client = httpx.Client(base_url=url, timeout=60)
        self.scores: list[dict[str, Any]] = []

    def call(self, method: str, path: str, who: str = "admin", expect: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", "Idempotency-Key": uuid.uuid4().hex}
        for _ in range(10):
            answer = self.client.request(method, path, headers=headers, **kwargs)
            if answer.status_code != 503:
                break
            time.sleep(0.5)
        if answer.status_code != expect:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def prepare(self) -> None:
        for n in range(EXPERTS):
            body = {
                "name": f"Soak Expert {n}",
                "email": f"soak-expert-{n}-{uuid.uuid4().hex[:8]}@experts.example.org",
                "country": "DE",
                "languages": ["en"],
                "certified_until": "2100-01-01T00:00:00Z",
                "affiliations": [],
            }
            answer = self.call("POST", "/experts", expect=201, json=body)
            self.tokens[answer["expert_id"]] = answer["token"]
        board = {"name": "Soak Board", "email": "board@secretariat.example.org", "roles": ["decider"]}
        self.tokens["decider"] = self.call("POST", "/accounts", expect=201, json=board)["token"]
        self.scores = [
            {"code": item["code"], "score": item["max_score"], "evidence": "documented"}
            for item in self.call("GET", "/indicators?level=bronze")
        ]

    def lifecycle(self, number: int) -> None:
        """One Bronze case from application to its label, every step as the pages take it."""
        cluster = {
            "name": f"Soak Cluster {number}",
            "country": "LT",
            "sector": "maritime",
            "website": "https://cluster.example.org",
            "members": 30,
            "member_types": ["business", "research"],
            "staff_fte": 2.0,
            "eccp_listed": True,
        }
        cluster_id = self.call("POST", "/clusters", expect=201, json=cluster)["cluster_id"]
        application = {"cluster_id": cluster_id, "level": "bronze"}
        case_id = self.call("POST", "/applications", expect=201, json=application)["case_id"]
        self.call("POST", f"/cases/{case_id}/screening", json={"accepted": True, "reason": "complete"})
        expert_id = _eventually(lambda: self.call("GET", f"/cases/{case_id}")["proposed_expert_id"], "a proposal")
        self.call("POST", f"/cases/{case_id}/assignment", who=expert_id, json={"accept": True})
        self.call("POST", f"/cases/{case_id}/agreement", json={"agreed": True})
        assessment = {"indicators": self.scores, "report": "Soak interview."}
        self.call("POST", f"/cases/{case_id}/assessment", who=expert_id, json=assessment)
        decision = {"outcome": "award", "rationale": "All criteria met."}
        self.call("POST", f"/cases/{case_id}/decision", who="decider", json=decision)
        _eventually(lambda: self.call("GET", f"/cases/{case_id}")["label_id"], "the label")


def soak_only(directory: Path, url: str | None, minutes: float) -> dict[str, Any]:
    """`--soak MINUTES` alone: bench-results.json with the soak's figures only."""
    from clusterlabel.interfaces.event_store_env import parse_postgres_url
    from clusterlabel.tools.bench.store import postgres_unreachable

    if url is None:
        raise SystemExit("clusterlabel bench --soak: give the PostgreSQL database (--postgres-url or --database-url)")
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", **parse_postgres_url(url)}
    why = postgres_unreachable(env)
    if why is not None:
        raise SystemExit(f"clusterlabel bench --soak: no PostgreSQL server answers at {url} ({why})")
    figures = bench_soak(directory, env, url, minutes)
    return {"store": "postgres", "cpu_count": os.cpu_count() or 1, "mode": "soak", "soak": figures, "notes": [NOTE]}


def bench_soak(directory: Path, postgres: Mapping[str, str], url: str, minutes: float) -> dict[str, Any]:
    """The soak's figures (`soak` in bench-results.json), on a fresh schema of the database at `url`."""
    directory.mkdir(parents=True, exist_ok=True)
    stores = BenchStores(directory, postgres)
    processes: list[Process] = []
    try:
        env = stores.env("soak")
        database_url = f"{url.split('?')[0]}?{urlencode({'schema': env['POSTGRES_SCHEMA']})}"
        chain_key = env["CHAIN_KEY"]
        child_env = {
            **os.environ,
            "CLUSTERLABEL_ADMIN_TOKEN": ADMIN_TOKEN,
            "CLUSTERLABEL_CHAIN_KEY": chain_key,  # processes sharing an event store share the chain's key
            "CLUSTERLABEL_LOG_LEVEL": "WARNING",
        }
        with EmbeddedTemporal(directory / "temporal-soak") as temporal:
            url = _start(processes, directory, database_url, temporal.address, child_env)
            api = Api(url)
            api.prepare()
            for number in range(WARM_UP_LIFECYCLES):
                api.lifecycle(-1 - number)
            with open_read_models(env) as models:
                _eventually(lambda: set(models.runner.lag().values()) == {0}, "the views to catch up")
                sampler = LagSampler(models.runner).start()
                memory = Memory({p.name: p.popen.pid for p in processes}, temporal.pid)
                print(f"soak: driving lifecycles for {minutes:g} minutes", file=sys.stderr, flush=True)
                completed, errors = _drive(api, minutes, memory)
                sampler.stop()
            api.client.close()
            return _figures(minutes, completed, errors, sampler.figures(), memory)
    finally:
        for process in reversed(processes):
            process.stop()
        stores.close()


def _start(started: list[Process], directory: Path, database_url: str, temporal: str, env: Mapping[str, str]) -> str:
    """The API first (it creates the tables the others then find), then the runner and two workers,
    each added to `started` as it starts; the API's URL."""
    common = ["--database-url", database_url]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = ["serve", *common, "--temporal", temporal, "--no-worker", "--no-projections", "--port", str(port)]
    api = Process("api", [*serve, "--data-dir", str(directory / "api")], directory, env)
    started.append(api)
    _eventually(lambda: _healthy(url), "the API to answer")
    runner = ["projections", "run", *common, "--data-dir", str(directory / "runner")]
    started.append(Process("projections", runner, directory, env))
    for name in ("worker-1", "worker-2"):
        worker = ["worker", *common, "--temporal", temporal, "--data-dir", str(directory / name)]
        started.append(Process(name, worker, directory, env))
    return url


class Memory:
    """Each process's resident memory, its helpers' with it (the API's document renderers): after the warm-up,
    the largest seen, the last, and the last of each minute (growth that levels off is a cache filling;
    growth every minute alike is a leak)."""

    def __init__(self, pids: dict[str, int], server_pid: int | None) -> None:
        self.pids, self.server_pid = pids, server_pid
        self.begun = time.monotonic()
        self.first = self.sample()
        self.last, self.peak = dict(self.first), dict(self.first)
        self.by_minute: dict[int, dict[str, float]] = {}

    def sample(self) -> dict[str, float]:
        sizes = {name: tree_rss_mb(pid) for name, pid in self.pids.items()}
        if self.server_pid is not None:
            sizes["temporal_server"] = group_rss_mb(self.server_pid)
        return sizes

    def update(self) -> None:
        self.last = self.sample()
        self.peak = {name: max(self.peak[name], size) for name, size in self.last.items()}
        self.by_minute[int((time.monotonic() - self.begun) // 60)] = self.last

    def each_minute(self) -> dict[str, list[float]]:
        minutes = [self.by_minute[minute] for minute in sorted(self.by_minute)]
        return {name: [sizes[name] for sizes in minutes] for name in self.first}

    def growth_pct(self) -> dict[str, float]:
        return {name: 100 * (self.last[name] - self.first[name]) / self.first[name] for name in self.first}


def _drive(api: Api, minutes: float, memory: Memory) -> tuple[list[float], list[str]]:
    """Lifecycles from DRIVERS threads until the time is up: when each completed (s from start), the errors."""
    begun = time.monotonic()
    ends = begun + minutes * 60
    completed: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(1_000_000_000))

    interrupted = threading.Event()

    def drive() -> None:
        while time.monotonic() < ends and not interrupted.is_set():
            with lock:
                number = next(counter)
            try:
                api.lifecycle(number)
            except Exception as error:  # a lifecycle that failed is the figure, not the end of the soak
                with lock:
                    errors.append(f"{type(error).__name__}: {error}"[:300])
                continue
            with lock:
                completed.append(time.monotonic() - begun)

    with ThreadPoolExecutor(DRIVERS) as pool:
        running = [pool.submit(drive) for _ in range(DRIVERS)]
        try:
            while not all(future.done() for future in running):
                memory.update()
                time.sleep(min(MEMORY_SAMPLE_SECONDS, max(0.1, ends - time.monotonic())))
        except (
            BaseException
        ):  # Ctrl-C or SIGTERM: each driver ends after the lifecycle in flight, not when the time is up
            interrupted.set()
            raise
        for future in running:
            future.result()
    memory.update()
    return completed, errors


def _figures(minutes: float, completed: list[float], errors: list[str], lag: Lag, memory: Memory) -> dict[str, Any]:
    per_minute = [0] * max(1, int(minutes + 0.999))
    for at in completed:
        per_minute[min(len(per_minute) - 1, int(at // 60))] += 1
    growth = memory.growth_pct()
    return {
        "minutes": minutes,
        "lifecycles": len(completed),
        "per_minute": per_minute,
        "per_second": len(completed) / (minutes * 60),
        "errors": len(errors),
        "first_errors": errors[:5],
        "lag_p99_ms": lag.p99_ms,
        "lag_p50_ms": lag.p50_ms,
        "lag_samples": len(lag.latencies_ms),
        "rss_growth_pct": max(growth.values()),
        "rss_growth_pct_by_process": growth,
        "rss_mb_after_warm_up": memory.first,
        "rss_mb_peak": memory.peak,
        "rss_mb_last": memory.last,
        "rss_mb_each_minute": memory.each_minute(),
        "drivers": DRIVERS,
    }


def _eventually(check: Callable[[], T], what: str, timeout: float = WAIT_SECONDS) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
