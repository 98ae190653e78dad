"""`python -m clusterlabel.tools.bench` end to end, at the smallest sizes: every figure there and positive,
on SQLite alone and, in one run, on SQLite and PostgreSQL (the PostgreSQL figures under `postgres`); and
`--soak MINUTES`, a fraction of a minute of it: lifecycles on PostgreSQL through two workers, an API and a
projection runner, each a process of its own. Each leaves nothing running or stored afterwards.

Speed is never asserted here: the targets are the bench's to report, not a test's to enforce. Both runs
stay in this one module so that parallel test workers never run them at once: each checks that it left
no schema of its own behind, which another bench running beside it would confuse.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from starlette.types import Receive, Scope, Send

from clusterlabel.activities.application import CertificationApp
from clusterlabel.projections.factory import open_read_models
from tests.stores import POSTGRES, postgres_url

ROOT = Path(__file__).resolve().parents[2]
TEST_SERVER_URL = f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}"
FIGURES = {
    "lifecycle": ["per_second", "baseline_per_second", "ratio", "limit_per_second", "ratio_to_limit"],
    "append": ["events_per_second", "baseline_events_per_second", "ratio"],
    "projection": ["events_per_second", "baseline_events_per_second", "ratio", "lag_p99_ms"],
    "history": ["cases_in_store", "p50_ms", "p99_ms", "client_p99_ms"],
    "open_cases": ["count", "worker_rss_mb", "server_rss_mb"],
    "cost": ["cpu_seconds_per_lifecycle", "bytes_per_lifecycle"],
    "scaling": ["lifecycle_ratio_full_vs_empty"],
}
# Measured again on PostgreSQL when it answers (open cases, the worker's memory, only once; the
# lifecycles on a full store only once in a tiny run).
POSTGRES_FIGURES = {part: keys for part, keys in FIGURES.items() if part not in ("open_cases", "scaling")}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run, as `make bench` does it: SQLite, then PostgreSQL when the test server answers."""
    directory = tmp_path_factory.mktemp("bench")
    out = directory / "bench-results.json"
    schemas_before = _bench_schemas()
    finished = _bench(["--tiny", "--out", str(out), "--work-dir", str(directory / "work")], timeout=600)
    assert "targets:" in finished.stdout
    results = json.loads(out.read_text())
    if "postgres" in results:
        assert _bench_schemas() - schemas_before == set(), "the bench left its PostgreSQL schemas behind"
        assert "store postgres" in finished.stdout  # its own table of figures and targets
    return results


def _assert_positive_figures(results: dict, figures: dict[str, list[str]], prefix: str = "") -> None:
    for part, keys in figures.items():
        for key in keys:
            value = results[part][key]
            assert isinstance(value, int | float) and not isinstance(value, bool), f"{prefix}{part}.{key} = {value!r}"
            assert value > 0, f"{prefix}{part}.{key} = {value!r}"


def test_the_bench_reports_every_figure_as_a_positive_number(results: dict) -> None:
    _assert_positive_figures(results, FIGURES)


def test_a_history_is_timed_by_the_server_within_what_the_client_saw(results: dict) -> None:
    """The server's time of each request (from the app's call to its return) is part of the client's."""
    for history in (results["history"], results.get("postgres", {}).get("history")):
        if history is not None:
            assert history["p99_ms"] < history["client_p99_ms"], history


def test_the_stopwatch_times_the_whole_answer_and_only_it() -> None:
    """An app that takes 30 ms before its answer and 20 ms after starting it: the stopwatch reads both,
    and less than the client waited."""
    from clusterlabel.tools.bench.history import Stopwatch

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(0.03)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.02)
        await send({"type": "http.response.body", "body": b"done"})

    async def timed() -> None:
        served = Stopwatch(slow)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=served), base_url="http://t") as client:
            started = time.perf_counter()
            assert (await client.get("/")).text == "done"
            waited = (time.perf_counter() - started) * 1000
        assert 50 <= served.last_ms < waited

    asyncio.run(timed())


def test_the_bench_names_its_store_and_the_machines_cores(results: dict) -> None:
    assert results["store"] == "sqlite"
    assert results["cpu_count"] == os.cpu_count()


@pytest.mark.postgres
def test_with_postgresql_answering_every_figure_is_there_again_under_postgres(results: dict) -> None:
    postgres_url()  # skips (fails under CI) when the test server does not answer
    assert results["postgres"]["store"] == "postgres"
    _assert_positive_figures(results["postgres"], POSTGRES_FIGURES, "postgres.")


def test_the_cost_of_a_lifecycle_counts_the_worker_and_server_and_every_store(results: dict) -> None:
    for figures in (results, results.get("postgres", results)):
        cost = figures["cost"]
        assert set(cost["cpu_seconds_by_process"]) == {"bench_process", "temporal_server"}
        assert all(seconds > 0 for seconds in cost["cpu_seconds_by_process"].values()), cost
        assert set(cost["bytes_by_store"]) == {"events", "views", "temporal"}
        assert all(stored > 0 for stored in cost["bytes_by_store"].values()), cost


def test_the_baseline_repeats_the_real_lifecycles_activities_updates_and_timers(results: dict) -> None:
    shape = results["lifecycle"]["shape_per_lifecycle"]
    assert shape["updates"] == 6  # screen, respond, agreement, audit, assessment, decision
    assert shape["activities"] >= 11 and shape["timers"] >= 1 and shape["child_workflows"] == 1


def test_the_bench_leaves_no_worker_or_server_running(results: dict, tmp_path_factory: pytest.TempPathFactory) -> None:
    running = _running_in(tmp_path_factory.getbasetemp())
    assert [command for command in running if "worker_process" in command or "start-dev" in command] == []


def test_a_postgresql_server_that_does_not_answer_leaves_a_note_and_the_sqlite_figures(tmp_path: Path) -> None:
    from clusterlabel.tools.bench.cli import TINY, _with_postgres

    sqlite_only = {"store": "sqlite", "notes": ["history: ..."]}
    results = _with_postgres(sqlite_only, tmp_path, "tiny", TINY, "postgresql://postgres@127.0.0.1:1/test")
    assert "postgres" not in results
    assert results["notes"][0] == "history: ..."
    assert results["notes"][1].startswith("postgres: not measured, no server answers (")


@pytest.mark.postgres
def test_a_postgresql_store_is_vacuumed_and_analysed_before_its_reads_are_timed(tmp_path: Path) -> None:
    from clusterlabel.tools.bench.cli import _postgres_env
    from clusterlabel.tools.bench.store import BenchStores

    env = _postgres_env(postgres_url())
    assert env is not None
    stores = BenchStores(tmp_path, env)
    try:
        store = stores.env("settled")
        app = CertificationApp(env=store)
        open_read_models(store, app).close()  # the views' tables beside the events'
        app.close()
        stores.settle(store)
        with psycopg.connect(**POSTGRES) as connection:
            tables = connection.execute(
                "SELECT relname, last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE schemaname = %s",
                (store["POSTGRES_SCHEMA"],),
            ).fetchall()
    finally:
        stores.close()
    assert {"clusterlabel_events", "audit_events", "case_status"} <= {name for name, _, _ in tables}
    assert all(vacuumed and analysed for _, vacuumed, analysed in tables), tables


SOAK_MINUTES = 0.2
SOAK_PROCESSES = {"api", "projections", "worker-1", "worker-2", "temporal_server"}


@pytest.mark.postgres
def test_a_soak_reports_its_throughput_errors_lag_and_memory_growth_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    postgres_url()  # skips (fails under CI) when the test server does not answer
    out, work = tmp_path / "bench-results.json", tmp_path / "work"
    schemas_before = _bench_schemas()
    finished = _bench(["--soak", str(SOAK_MINUTES), "--out", str(out), "--work-dir", str(work)], timeout=400)
    assert "lifecycles each minute:" in finished.stdout and "memory at the end of each minute" in finished.stdout

    soak = json.loads(out.read_text())["soak"]
    assert soak["minutes"] == SOAK_MINUTES
    assert soak["errors"] == 0, soak["first_errors"]
    assert soak["lifecycles"] > 0 and sum(soak["per_minute"]) == soak["lifecycles"]
    assert soak["lag_p99_ms"] > 0
    assert set(soak["rss_growth_pct_by_process"]) == SOAK_PROCESSES
    assert soak["rss_growth_pct"] == max(soak["rss_growth_pct_by_process"].values())
    assert all(size > 0 for size in soak["rss_mb_last"].values())
    each_minute = soak["rss_mb_each_minute"]
    assert set(each_minute) == SOAK_PROCESSES
    assert all(sizes and sizes[-1] == soak["rss_mb_last"][name] for name, sizes in each_minute.items())
    assert _running_in(work) == []
    assert _bench_schemas() - schemas_before == set()


@pytest.mark.postgres
def test_sigterm_stops_a_soak_at_once_and_leaves_nothing_running(tmp_path: Path) -> None:
    """A ten-minute soak stopped a few seconds into its drive ends within a minute, not when its time is up,
    its processes stopped in turn; started as `nohup … &` starts it, with SIGINT ignored (which its children
    inherit: stopped with Ctrl-C's signal, each would have been killed only after 30 seconds)."""
    postgres_url()
    work = tmp_path / "work"
    schemas_before = _bench_schemas()
    args = ["--soak", "10", "--out", str(tmp_path / "out.json"), "--work-dir", str(work)]
    with subprocess.Popen(
        ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *_bench_command(args)],  # as `nohup … &` starts it
        cwd=ROOT,
        env=_bench_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,
    ) as bench:
        try:
            assert bench.stderr is not None
            if not any(line.startswith("soak: driving lifecycles") for line in bench.stderr):
                pytest.fail(f"the soak never began its drive (exit {bench.wait()})")
            time.sleep(3)  # lifecycles in flight on every driver
            bench.send_signal(signal.SIGTERM)
            exit_code = bench.wait(timeout=60)  # TimeoutExpired: the soak went on after SIGTERM
        finally:
            with contextlib.suppress(ProcessLookupError):  # all gone, once it has stopped them and exited
                os.killpg(bench.pid, signal.SIGKILL)
    assert exit_code == 130
    assert not (tmp_path / "out.json").exists()  # an interrupted soak reports no figures
    assert _running_in(work) == []
    assert _bench_schemas() - schemas_before == set()


def _bench(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """`python -m clusterlabel.tools.bench ARGS` on the test server, as a user runs it; it must exit 0."""
    finished = subprocess.run(
        _bench_command(args), check=False, cwd=ROOT, env=_bench_env(), capture_output=True, text=True, timeout=timeout
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished


def _bench_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "clusterlabel.tools.bench", *args, "--postgres-url", TEST_SERVER_URL]


def _bench_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        # Smaller pools than a deployment's (5, and 10 more under load): the soak's five processes held
        # about 52 of the test server's 100 connections with those, beside a test on the other worker.
        "CLUSTERLABEL_POSTGRES_POOL_SIZE": "2",
        "CLUSTERLABEL_POSTGRES_MAX_OVERFLOW": "3",
    }


def _running_in(work: Path) -> list[str]:
    """The command lines of the processes still running with `work` in them."""
    running = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if re.search(re.escape(str(work)) + r"(/|\s|$)", command):  # popen-gw1 is not popen-gw10
                running.append(command)
    return running


def _bench_schemas() -> set[str]:
    """The bench's schemas on the test server (none when it does not answer). A test compares them before and
    after its run: a bench killed earlier on the same server may have left its own."""
    import psycopg

    try:
        with psycopg.connect(TEST_SERVER_URL, connect_timeout=5) as connection:
            rows = connection.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'").fetchall()
    except psycopg.OperationalError:
        return set()
    return {row[0] for row in rows}
