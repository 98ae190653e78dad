"""`python -m clusterlabel.tools.bench` end to end, at the smallest sizes: every figure there and positive.

Speed is never asserted here: the targets are the bench's to report, not a test's to enforce.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stores import postgres_url

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "lifecycle": ["per_second", "baseline_per_second", "ratio"],
    "append": ["events_per_second", "baseline_events_per_second", "ratio"],
    "projection": ["events_per_second", "baseline_events_per_second", "ratio", "lag_p99_ms"],
    "history": ["cases_in_store", "p50_ms", "p99_ms"],
    "open_cases": ["count", "worker_rss_mb", "server_rss_mb"],
}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    directory = tmp_path_factory.mktemp("bench")
    out = directory / "bench-results.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    on_postgres = ["--database-url", postgres_url()] if request.param == "postgres" else []
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "clusterlabel.tools.bench",
            "--tiny",
            "--out",
            str(out),
            "--work-dir",
            str(directory / "work"),
            *on_postgres,
        ],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "targets:" in finished.stdout
    if request.param == "postgres":
        assert _bench_schemas() == [], "the bench left its PostgreSQL schemas behind"
    return json.loads(out.read_text())


def test_the_bench_reports_every_figure_as_a_positive_number(results: dict) -> None:
    for part, keys in FIGURES.items():
        for key in keys:
            value = results[part][key]
            assert isinstance(value, int | float) and not isinstance(value, bool), f"{part}.{key} = {value!r}"
            assert value > 0, f"{part}.{key} = {value!r}"


def test_the_bench_names_its_store_and_the_machines_cores(request: pytest.FixtureRequest, results: dict) -> None:
    assert results["store"] == request.node.callspec.params["results"]
    assert results["cpu_count"] == os.cpu_count()


def test_the_baseline_repeats_the_real_lifecycles_activities_updates_and_timers(results: dict) -> None:
    shape = results["lifecycle"]["shape_per_lifecycle"]
    assert shape["updates"] == 6  # screen, respond, agreement, audit, assessment, decision
    assert shape["activities"] >= 11 and shape["timers"] >= 1 and shape["child_workflows"] == 1


def test_the_bench_leaves_no_worker_or_server_running(results: dict, tmp_path_factory: pytest.TempPathFactory) -> None:
    work = str(tmp_path_factory.getbasetemp())
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if work in command and ("clusterlabel.tools.bench.worker_process" in command or "start-dev" in command):
                leftovers.append(command)
    assert leftovers == []


def _bench_schemas() -> list[str]:
    import psycopg

    with psycopg.connect(postgres_url()) as connection:
        rows = connection.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'").fetchall()
    return [row[0] for row in rows]
