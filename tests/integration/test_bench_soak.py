"""`clusterlabel bench --soak MINUTES`, a fraction of a minute of it: lifecycles on PostgreSQL through
two workers, an API and a projection runner, each a process of its own; its figures, and nothing left
running or stored afterwards. Speed is not asserted (the bench reports it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_bench import ROOT, TEST_SERVER_URL, _bench_schemas
from tests.stores import postgres_url

pytestmark = pytest.mark.postgres
MINUTES = 0.2
PROCESSES = {"api", "projections", "worker-1", "worker-2", "temporal_server"}


def test_a_soak_reports_its_throughput_errors_lag_and_memory_growth_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    postgres_url()  # skips (fails under CI) when the test server does not answer
    out, work = tmp_path / "bench-results.json", tmp_path / "work"
    schemas_before = _bench_schemas()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    args = ["--soak", str(MINUTES), "--postgres-url", TEST_SERVER_URL, "--out", str(out), "--work-dir", str(work)]
    finished = subprocess.run(
        [sys.executable, "-m", "clusterlabel.tools.bench", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "lifecycles each minute:" in finished.stdout and "memory at the end of each minute" in finished.stdout

    soak = json.loads(out.read_text())["soak"]
    assert soak["minutes"] == MINUTES
    assert soak["errors"] == 0, soak["first_errors"]
    assert soak["lifecycles"] > 0 and sum(soak["per_minute"]) == soak["lifecycles"]
    assert soak["lag_p99_ms"] > 0
    assert set(soak["rss_growth_pct_by_process"]) == PROCESSES
    assert soak["rss_growth_pct"] == max(soak["rss_growth_pct_by_process"].values())
    assert all(size > 0 for size in soak["rss_mb_last"].values())
    each_minute = soak["rss_mb_each_minute"]
    assert set(each_minute) == PROCESSES
    assert all(sizes and sizes[-1] == soak["rss_mb_last"][name] for name, sizes in each_minute.items())
    assert _running_in(work) == []
    assert _bench_schemas() - schemas_before == set()


def _running_in(work: Path) -> list[str]:
    running = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(work) in command:
                running.append(command)
    return running
