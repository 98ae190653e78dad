"""`clusterlabel verify` exits non-zero once a stored event has been tampered with."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.commands import RegisterCluster
from clusterlabel.interfaces import verify_cli
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
