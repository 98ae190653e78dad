"""`clusterlabel verify` exits non-zero once a stored event has been tampered with; `verify --head` and
`--against` anchor the chain elsewhere; `projections rebuild` never replaces a chain that finds tampering."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.record_commands import RegisterCluster
from clusterlabel.interfaces import cli, verify_cli
from clusterlabel.interfaces.settings import Settings
from tests.builders import cluster_profile, key, register


def test_verify_exits_zero_on_an_intact_log_and_one_after_a_row_is_altered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLUSTERLABEL_DATA_DIR", str(tmp_path))
    settings = Settings()
    app = CertificationApp(env=settings.eventsourcing_env())
    cluster_id = register(app, RegisterCluster(profile=cluster_profile()), actor="secretariat:sam", command_key=key())
    app.close()
    assert verify_cli.main([]) == verify_cli.EXIT_OK

    with sqlite3.connect(settings.sqlite_path()) as connection:
        connection.execute(
            "UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), 'Baltic', 'Bogus') AS BLOB)"
        )
    assert verify_cli.main([]) == verify_cli.EXIT_TAMPERED
    output = capsys.readouterr().out
    assert f"altered  seq 1  {cluster_id} v1" in output and "TAMPERED: 1 problem(s)" in output


# ---- the keyed chain from the command line -------------------------------------------------------


def _alter_every_event(settings: Settings, old: str, new: str) -> None:
    with sqlite3.connect(settings.sqlite_path()) as connection:
        connection.execute(
            "UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), ?, ?) AS BLOB)", (old, new)
        )


def _register(settings: Settings, *names: str) -> None:
    app = CertificationApp(env=settings.eventsourcing_env())
    for name in names:
        register(app, RegisterCluster(profile=cluster_profile(name=name)), actor="secretariat:sam")
    app.close()


def test_development_generates_the_chain_key_once_into_the_data_directory_outside_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLUSTERLABEL_DATA_DIR", str(tmp_path))
    settings = Settings()
    _register(settings, "Cluster A")
    assert verify_cli.main([]) == verify_cli.EXIT_OK
    first = settings.chain_key_file().read_text()

    assert verify_cli.main([]) == verify_cli.EXIT_OK
    assert settings.chain_key_file().read_text() == first
    assert settings.chain_key_file().stat().st_mode & 0o777 == 0o600
    assert first.strip().encode() not in settings.sqlite_path().read_bytes()


def test_verify_head_prints_json_that_verify_against_accepts_while_the_chain_extends_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path)
    _register(settings, "Cluster A", "Cluster B")
    assert cli.main(["verify", "--head", "--data-dir", str(tmp_path)]) == verify_cli.EXIT_OK
    printed = capsys.readouterr()
    head = json.loads(printed.out)
    assert set(head) == {"position", "links", "log_head", "scheme", "exported_at"}
    assert head["position"] == head["links"] == 2 and head["scheme"].startswith("hmac-sha256:")
    assert "OK; 2 events checked" in printed.err  # the usual report, kept off stdout

    _register(settings, "Cluster C")
    anchor_file = tmp_path / "anchored-head.json"
    anchor_file.write_text(printed.out)

    assert cli.main(["verify", "--against", printed.out.strip(), "--data-dir", str(tmp_path)]) == 0
    assert cli.main(["verify", "--against", str(anchor_file), "--data-dir", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "OK; 3 events checked" in output and "anchored head OK" in output


def test_rebuild_refuses_after_tampering_and_the_anchored_head_exposes_a_forced_rebuild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path)
    _register(settings, "Cluster A", "Cluster B")
    assert cli.main(["verify", "--head", "--data-dir", str(tmp_path)]) == 0
    anchored = capsys.readouterr().out.strip()
    _alter_every_event(settings, "Cluster A", "Cluster Z")
    rebuild = ["projections", "rebuild", "--processes", "1", "--data-dir", str(tmp_path)]

    assert cli.main(rebuild) == 1
    assert cli.main([*rebuild[:2], "--views", "event_chain", *rebuild[2:]]) == 1
    refused = capsys.readouterr().err
    assert "refusing to rebuild" in refused and "altered  seq 1" in refused
    assert cli.main(["verify", "--data-dir", str(tmp_path)]) == verify_cli.EXIT_TAMPERED  # the evidence stays

    assert cli.main([*rebuild, "--accept-tampering"]) == 0
    assert "WARNING: rebuilding the event chain over 1 problem(s)" in capsys.readouterr().err
    assert cli.main(["verify", "--data-dir", str(tmp_path)]) == verify_cli.EXIT_OK
    assert cli.main(["verify", "--against", anchored, "--data-dir", str(tmp_path)]) == verify_cli.EXIT_TAMPERED
    assert "anchored head NOT EXTENDED" in capsys.readouterr().out


def test_verify_against_something_that_is_not_a_head_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify", "--against", '{"position": 1}', "--data-dir", str(tmp_path)]) == verify_cli.EXIT_USAGE
    assert "--against needs a head" in capsys.readouterr().err
