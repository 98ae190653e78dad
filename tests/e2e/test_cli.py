"""The secretariat's scripted commands against the same data directory a running engine uses."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.driver import Secretariat
from tests.e2e.engine import ADMIN_TOKEN, ROOT, RunningEngine, eventually, policy_toml, running_engine
from tests.e2e.page_session import pages_as, token_of

QUICK_POLICY = {"label_validity": "PT5S", "renewal_window": "PT3S", "expiry_reminders": ["PT2S"]}
# What a label ends as by itself (lapsed), or by the secretariat's hand in a storyline.
LABEL_ENDS = {"lapsed", "superseded", "withdrawn"}


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


def simulated(tmp_path: Path, *options: str, clusters: int = 6) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`simulate` with the quick policy into tmp_path/data: its run, and the folder it made there."""
    quick = tmp_path / "quick.toml"
    quick.write_text(policy_toml(QUICK_POLICY))
    data = tmp_path / "data"
    # Its own bounds: up to FINISH_WITHIN (120 s) for the lifecycles to end and 30 s for the views, after the
    # storylines themselves; a slow machine must see it through them, not kill it midway.
    run = clusterlabel(
        "simulate", "--clusters", str(clusters), "--data-dir", str(data), "--policy", str(quick), *options, timeout=420
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    (folder,) = (data / "simulations").iterdir()
    return run, folder


@pytest.fixture(scope="module")
def six_clusters(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One simulation of six clusters' storylines, read by the two tests after it: first its commands'
    answers (a rebuild changes no view's rows), then serve carrying it on."""
    return simulated(tmp_path_factory.mktemp("six-clusters"))


def test_simulate_runs_whole_lifecycles_and_exits_0(
    six_clusters: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    run, folder = six_clusters
    for line in ("cases      awarded", "labels     lapsed", "labels     superseded", "events stored", "projection lag"):
        assert line in run.stdout

    rebuilt = clusterlabel("projections", "rebuild", "--processes", "2", "--data-dir", str(folder))
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr[-3000:]
    assert "by 2 processes" in rebuilt.stdout
    status = clusterlabel("status", "--data-dir", str(folder))
    assert status.returncode == 0 and "awarded" in status.stdout
    assert set(status.stdout.split("projection lag:")[1].split()[1::2]) == {"0"}  # every view caught up


def labels_end_under_serve(folder: Path, within: float = 30.0) -> list[dict[str, str]]:
    """Serve the simulation's folder until every label has ended (lapsed once its renewal window closed)."""
    unlimited = {"CLUSTERLABEL_PUBLIC_RATE_LIMIT": "1000/second"}  # the test polls the public registry
    with running_engine(folder, QUICK_POLICY, env=unlimited) as engine, engine.client() as api:
        deadline = time.monotonic() + within
        while True:
            answer = api.get("/registry")
            assert answer.status_code == 200, answer.text
            labels = answer.json()
            going_on = [
                f"{label['label_code']} {label['status']}, renewable until {label['renewable_until']}"
                for label in labels
                if label["status"] not in LABEL_ENDS
            ]
            if not going_on:
                return labels
            assert time.monotonic() < deadline, f"labels still going on under serve: {going_on}\n{engine.log_tail(20)}"
            time.sleep(0.2)


def test_every_label_a_simulation_leaves_ends_under_serve_on_its_folder(
    six_clusters: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    run, folder = six_clusters

    labels = labels_end_under_serve(folder)

    assert len(labels) >= 4  # renewed (two), lapsing, suspended, declined-first
    said = run.stdout.split("projection lag")[1]
    assert "every lifecycle the simulation started has ended" in said or "left open:" in said


def test_a_simulation_told_not_to_wait_names_what_it_leaves_open_and_serve_carries_it_on(tmp_path: Path) -> None:
    run, folder = simulated(tmp_path, "--finish-within", "0", clusters=1)  # cluster 0: awarded, then renewed
    left = re.findall(r"^  label (\S+) (\w+), renewal window closes", run.stdout, re.MULTILINE)
    assert re.search(r"^left open: 1 labels, \d cases; `clusterlabel serve --data-dir \S+` carries", run.stdout, re.M)
    assert [state for _, state in left] == ["active"]  # the renewal's label, just issued

    labels = labels_end_under_serve(folder)

    assert {label["label_code"]: label["status"] for label in labels} == {left[0][0]: "lapsed", **superseded(labels)}


def superseded(labels: list[dict[str, str]]) -> dict[str, str]:
    return {label["label_code"]: "superseded" for label in labels if label["superseded_by"]}


def test_a_runner_asked_for_a_view_that_does_not_exist_names_the_views_and_exits_2(tmp_path: Path) -> None:
    run = clusterlabel("projections", "run", "--views", "registry,nope", "--data-dir", str(tmp_path / "data"))
    assert run.returncode == 2
    assert "no view named nope" in run.stderr and "audit_history" in run.stderr


def test_labels_imported_beside_a_running_engine_show_in_its_registry_downloads_and_verification(
    engine: RunningEngine, secretariat: Secretariat, tmp_path: Path
) -> None:
    sample = ROOT / "docs" / "label-import-sample.csv"
    first = clusterlabel("import-labels", str(sample), "--data-dir", str(engine.data_dir))
    assert first.returncode == 0, first.stderr
    codes = dict(re.findall(r"(ESCA-[BSG]-\d{4}-\d{4})  imported  verification code (\w+)", first.stdout))
    assert len(codes) == 3 and "3 labels imported, 0 imported before" in first.stdout
    again = clusterlabel("import-labels", str(sample), "--data-dir", str(engine.data_dir))
    assert "0 labels imported, 3 imported before" in again.stdout

    public = engine.client(token=None)
    entry = eventually(
        lambda: next((e for e in public.get("/registry").json() if e["label_code"] == "ESCA-S-2025-0311"), None),
        what="the imported label in the registry",
    )
    assert (entry["cluster_name"], entry["imported_from"]) == ("Nordic Health Tech", "ESCA database export 2026-11")
    download = public.get("/registry.csv", params={"country": "SE"})
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="registry-\d{4}-\d{2}-\d{2}\.csv"', download.headers["content-disposition"]
    )
    assert download.content.endswith(b"\r\n")
    (row,) = csv.DictReader(io.StringIO(download.text))  # only the Swedish label
    assert (row["label_code"], row["status"], row["imported_from"]) == (
        "ESCA-S-2025-0311",
        "active",
        entry["imported_from"],
    )

    verified = public.get("/labels/ESCA-S-2025-0311/verify", params={"code": codes["ESCA-S-2025-0311"]}).json()
    assert (verified["status"], verified["imported_from"]) == ("valid", "ESCA database export 2026-11")
    page = public.get("/ui/verify", params={"label": "esca-s-2025-0311", "code": codes["ESCA-S-2025-0311"]}).text
    assert "Nordic Health Tech" in page and "imported from ESCA database export 2026-11" in page

    # A complaint names it by the code its certificate prints, as for any label.
    lodged = public.post(
        "/complaints",
        json={
            "about": " esca-s-2025-0311 ",
            "text": "Shown on a website it was not awarded to.",
            "contact_email": "n@x.se",
        },
    )
    assert lodged.status_code == 201, lodged.text
    complaint = engine.client().get(f"/complaints/{lodged.json()['complaint_id']}").json()
    assert (complaint["about"], complaint["label_id"]) == ("ESCA-S-2025-0311", entry["label_id"])

    contact = secretariat.contact(entry["cluster_id"], "Nils Nordic")
    assert contact.get("/labels/ESCA-S-2025-0311").json()["imported_from"] == "ESCA database export 2026-11"
    assert contact.get("/labels/ESCA-G-2019-0042").status_code == 404  # another cluster's
    assert contact.get("/statistics").status_code == 403

    statistics = engine.client().get("/statistics", params={"by": "level,country"}).json()
    assert {
        "level": "silver",
        "country": "SE",
        "sector": None,
        "year": None,
        "applications": 0,
        "awarded": 0,
        "refused": 0,
        "labels_in_force": 1,
    } in statistics["rows"]
    table = engine.client().get("/statistics.csv", params={"by": "country"})
    assert table.text.splitlines()[0] == "country,applications,awarded,refused,labels_in_force"
    assert "SE,0,0,0,1" in table.text.splitlines()
    staff_pages = pages_as(engine, ADMIN_TOKEN)
    assert "health, life sciences" in staff_pages.read("/ui/statistics").text
    by_level = staff_pages.get("/ui/statistics.csv?counted=1&by=level")
    assert by_level.text.splitlines()[0] == "level,applications,awarded,refused,labels_in_force"
    assert pages_as(engine, token_of(contact)).get("/ui/statistics").status_code == 403  # not the secretariat's
    refused = engine.client().get("/statistics", params={"by": "colour"})
    assert refused.status_code == 422 and "choose from level, country, sector, year" in refused.text
