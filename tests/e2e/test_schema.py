"""Schemathesis against /openapi.json on the real engine: no 5xx, and every answer fits the schema
(documented status code, content type and body shape), for the secretariat and for the public."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.engine import ADMIN_TOKEN, ARTIFACTS, RunningEngine

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def schemathesis_cli() -> list[str]:
    found = Path(sys.executable).parent / "st"
    if found.exists():
        return [str(found)]
    if shutil.which("st"):
        return ["st"]
    pytest.skip("schemathesis is not installed (pip install -e '.[test]')")


@pytest.mark.parametrize("token", [ADMIN_TOKEN, None], ids=["secretariat", "public"])
def test_the_api_keeps_to_its_openapi_schema(engine: RunningEngine, token: str | None) -> None:
    command = [
        *schemathesis_cli(),
        "--no-color",
        "run",
        f"{engine.url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        "6",
        "--workers",
        "2",
        "--request-timeout",
        "40",
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "20261126",
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=240)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"schemathesis-{'secretariat' if token else 'public'}.txt").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-6000:]
