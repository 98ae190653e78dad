"""The secretariat's scripted commands against the same data directory a running engine uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.driver import Secretariat
from tests.e2e.engine import ROOT, RunningEngine, policy_toml


def clusterlabel(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clusterlabel.interfaces.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_status_history_and_verify_read_what_the_api_wrote(engine: RunningEngine, secretariat: Secretariat) -> None:
    case_id = secretariat.apply(secretariat.cluster(name="Vistula Logistics Cluster", country="PL"))
    secretariat.screen(case_id)

    status = clusterlabel("status", "--data-dir", str(engine.data_dir))
    assert status.returncode == 0, status.stderr
    assert "cases:" in status.stdout and "projection lag" in status.stdout

    history = clusterlabel("history", case_id, "--data-dir", str(engine.data_dir))
    assert history.returncode == 0, history.stderr
    assert "Submitted" in history.stdout and "Screened" in history.stdout

    verify = clusterlabel("verify", "--data-dir", str(engine.data_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "OK" in verify.stdout


def test_simulate_runs_whole_lifecycles_and_exits_0(tmp_path: Path) -> None:
    quick = tmp_path / "quick.toml"
    quick.write_text(policy_toml({"label_validity": "PT5S", "renewal_window": "PT3S", "expiry_reminders": ["PT2S"]}))
    run = clusterlabel(
        "simulate", "--clusters", "6", "--data-dir", str(tmp_path / "data"), "--policy", str(quick), timeout=240
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    for line in ("cases      awarded", "labels     lapsed", "labels     superseded", "events stored", "projection lag"):
        assert line in run.stdout

    rebuilt = clusterlabel("projections", "rebuild", "--processes", "2", "--data-dir", str(tmp_path / "data"))
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr[-3000:]
    assert "by 2 processes" in rebuilt.stdout
    status = clusterlabel("status", "--data-dir", str(tmp_path / "data"))
    assert status.returncode == 0 and "awarded" in status.stdout
    assert set(status.stdout.split("projection lag:")[1].split()[1::2]) == {"0"}  # every view caught up


def test_a_runner_asked_for_a_view_that_does_not_exist_names_the_views_and_exits_2(tmp_path: Path) -> None:
    run = clusterlabel("projections", "run", "--views", "registry,nope", "--data-dir", str(tmp_path / "data"))
    assert run.returncode == 2
    assert "no view named nope" in run.stderr and "audit_history" in run.stderr
