"""`clusterlabel serve` as an operator meets it: health, the generated token, where messages go without a
mail server, restart with all state kept."""

from __future__ import annotations

import mailbox
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx

from tests.catalogues import baseline_revision, bronze_revision
from tests.e2e.driver import Secretariat
from tests.e2e.engine import (
    ADMIN_TOKEN,
    HOUR_POLICY,
    ROOT,
    TOKEN_LINE,
    RunningEngine,
    eventually,
    free_port,
    running_engine,
    stop,
)


def test_health_is_503_saying_what_is_not_ready_while_temporal_is_unreachable(tmp_path: Path) -> None:
    unreachable = f"127.0.0.1:{free_port()}"
    engine = _started_without_waiting(tmp_path, ["--temporal", unreachable])
    try:
        answer = _eventually_answering(engine)
        assert answer.status_code == 503
        body = answer.json()
        assert "temporal" in body["detail"] and "worker" in body["detail"]
        assert body["checks"]["projections"] == "ok"
        refused = engine.client().post(
            "/applications", json={"cluster_id": "00000000-0000-0000-0000-000000000000", "level": "bronze"}
        )
        assert refused.status_code == 503, refused.text
    finally:
        stop(engine)
    assert engine.process.returncode == 0


def test_state_and_the_generated_token_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    no_token = {"CLUSTERLABEL_ADMIN_TOKEN": ""}
    with running_engine(data_dir, HOUR_POLICY, env=no_token) as first:
        printed = TOKEN_LINE.findall(first.log_path.read_text())
        assert len(printed) == 1, first.log_tail()
        token = printed[0]
        assert token not in (data_dir / "tokens.sqlite").read_bytes().decode("latin-1")  # only its hash is kept
        secretariat = _secretariat(first, token)
        secretariat.expert(name="Anna Persistent")
        case_id = secretariat.apply(secretariat.cluster(name="Persistent Cluster"))
        secretariat.screen(case_id)
        expert_id, _ = secretariat.proposed_expert(case_id)
        # No mail server configured: the offer to the expert is a file in the data directory, which serve said.
        maildir = (data_dir / "maildir").resolve()
        assert f"Messages are written to the Maildir {maildir}" in first.log_path.read_text()
        offers = eventually(lambda: [m for m in mailbox.Maildir(maildir).values() if case_id in plain_text(m)])
        assert len(offers) == 1
    assert first.process.returncode == 0, first.log_tail()

    with running_engine(data_dir, HOUR_POLICY, env=no_token) as second:
        assert TOKEN_LINE.findall(second.log_path.read_text()) == []  # printed once, at the first start only
        second.experts.update(first.experts)
        secretariat = _secretariat(second, token)
        assert secretariat.case(case_id)["proposed_expert_id"] == expert_id
        accepted = secretariat.as_expert(expert_id).post(f"/cases/{case_id}/assignment", json={"accept": True})
        assert accepted.status_code == 200, accepted.text  # the workflow carried on where it was
        assert (
            httpx.get(f"{second.url}/cases/{case_id}", headers={"Authorization": "Bearer e2e-wrong"}).status_code == 401
        )


def _secretariat(engine: RunningEngine, token: str) -> Secretariat:
    secretariat = Secretariat(engine)
    secretariat.api = engine.client(token)
    return secretariat


def _started_without_waiting(tmp_path: Path, extra: list[str]) -> RunningEngine:
    port = free_port()
    log_path = tmp_path / "serve.log"
    command = [
        sys.executable,
        "-m",
        "clusterlabel.interfaces.cli",
        "serve",
        "--data-dir",
        str(tmp_path / "data"),
        "--port",
        str(port),
        *extra,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "CLUSTERLABEL_ADMIN_TOKEN": ADMIN_TOKEN},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return RunningEngine(f"http://127.0.0.1:{port}", tmp_path / "data", process, log_path)


def _eventually_answering(engine: RunningEngine) -> httpx.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{engine.url}/health", timeout=5)
            if answer.json().get("checks", {}).get("projections") == "ok":
                return answer
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(engine.log_tail())


def plain_text(message: mailbox.MaildirMessage) -> str:
    """A message's plain text part, decoded (it is multipart, its parts quoted-printable)."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode(part.get_content_charset() or "utf-8") if isinstance(payload, bytes) else ""
    return ""


def test_a_catalogue_published_in_the_catalogue_folder_is_the_one_new_applications_use(tmp_path: Path) -> None:
    folder = tmp_path / "catalogues"
    (folder / "baseline").mkdir(parents=True)
    (folder / "bronze-2025.toml").write_text(bronze_revision("bronze-2025", date(2025, 6, 1)), encoding="utf-8")
    revision = baseline_revision("baseline-2025", date(2025, 6, 1))
    (folder / "baseline" / "baseline-2025.toml").write_text(revision, encoding="utf-8")
    env = {"CLUSTERLABEL_CATALOGUE_DIR": str(folder)}
    with running_engine(tmp_path / "data", HOUR_POLICY, env=env) as engine:
        secretariat = Secretariat(engine)
        listed = secretariat.expect(secretariat.api.get("/indicators", params={"level": "bronze"}), 200)
        assert {item["catalogue_version"] for item in listed} == {"bronze-2025"}
        baseline = secretariat.expect(secretariat.api.get("/baseline"), 200)
        assert baseline["version"] == "baseline-2025" and "BL-20" in {item["code"] for item in baseline["requirements"]}
        case_id = secretariat.apply(secretariat.cluster())
        case = secretariat.expect(secretariat.api.get(f"/cases/{case_id}"), 200)
        assert case["catalogue_version"] == "bronze-2025"


def test_serve_refuses_to_start_on_a_catalogue_folder_holding_a_faulty_catalogue_or_baseline(tmp_path: Path) -> None:
    folder = tmp_path / "catalogues"
    folder.mkdir()
    broken = bronze_revision("bronze-2025", date(2025, 6, 1)).replace("max_score = ", "max_score = -", 1)
    (folder / "bronze-2025.toml").write_text(broken, encoding="utf-8")
    (folder / "baseline").mkdir()
    (folder / "baseline" / "baseline-2025.toml").write_text("version = [", encoding="utf-8")
    command = [sys.executable, "-m", "clusterlabel.interfaces.cli", "serve", "--data-dir", str(tmp_path / "data")]
    env = {**os.environ, "CLUSTERLABEL_CATALOGUE_DIR": str(folder), "CLUSTERLABEL_ADMIN_TOKEN": ADMIN_TOKEN}
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert "bronze-2025.toml" in finished.stderr and "max_score" in finished.stderr
    assert "baseline/baseline-2025.toml" in finished.stderr  # every problem named, of either kind


def test_an_embedded_temporal_server_that_dies_is_started_again_and_the_cases_go_on(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with running_engine(data_dir, HOUR_POLICY) as engine:
        secretariat = Secretariat(engine)
        secretariat.expert(name="Anna Outlasting")
        case_id = secretariat.apply(secretariat.cluster(name="Outlasting Cluster"))
        os.kill(_temporal_server_pid(data_dir), 9)  # as the OOM killer would
        eventually(lambda: "temporal server exited; starting it again" in engine.log_path.read_text() or None)
        eventually(lambda: httpx.get(f"{engine.url}/health", timeout=5).status_code == 200 or None, timeout=60)
        secretariat.screen(case_id)  # the case's workflow, recorded before the crash, takes its next step
        assert secretariat.proposed_expert(case_id)[0]
    assert engine.process.returncode == 0, engine.log_tail()


def _temporal_server_pid(data_dir: Path) -> int:
    """The embedded server's process: the one whose command line names the data directory's database."""
    database = str(data_dir / "temporal.sqlite")
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"start-dev" in command and database.encode() in command:
            return int(entry.name)
    raise AssertionError(f"no Temporal server runs on {database}")
