"""Schemathesis against /openapi.json on the real engine, every check and every phase (examples,
coverage, fuzzing, and the stateful phase that follows the OpenAPI links from each created id to the
operations on it): no 5xx, every answer fits the schema, a request the schema allows is never refused
as invalid and one it forbids never accepted — for the secretariat and for the public.

Its settings are in tests/e2e/schemathesis.toml and its hooks in tests/e2e/schemathesis_hooks.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.engine import ADMIN_TOKEN, ARTIFACTS, HOUR_POLICY, RunningEngine, running_engine

HERE = Path(__file__).parent
# The OpenAPI tags of the operations anyone may call without a token (complaints: lodging one).
PUBLIC_TAGS = ("public", "complaints")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    """The engine with the public rate limits out of the way, so that the public's requests reach the
    logic behind it (the limit itself: tests/e2e/test_hostile.py)."""
    unlimited = {
        "CLUSTERLABEL_PUBLIC_RATE_LIMIT": "1000000/minute",
        "CLUSTERLABEL_COMPLAINT_RATE_LIMIT": "1000000/minute",
    }
    with running_engine(tmp_path_factory.mktemp("engine") / "data", HOUR_POLICY, env=unlimited) as running:
        yield running


def schemathesis_cli() -> list[str]:
    found = Path(sys.executable).parent / "st"
    if found.exists():
        return [str(found)]
    if shutil.which("st"):
        return ["st"]
    pytest.skip("schemathesis is not installed (pip install -e '.[test]')")


# The secretariat's run in parts run side by side, each its own process (one worker thread each: under
# CPython 3.11 two threads building Hypothesis strategies at once can crash the coverage phase, "AST
# constructor recursion depth mismatch" in its lambda descriptions). The coverage phase, most of the
# time, is split by path into two parts about as long to cover; the phases that follow created ids (stateful) see every operation.
SPLIT_AT = "^/(cases|applications|labels|accounts)"
SECRETARIAT_PARTS = {
    "coverage-of-cases-labels-accounts": ["--phases", "coverage", f"--include-path-regex={SPLIT_AT}"],
    "coverage-of-the-rest": ["--phases", "coverage", f"--exclude-path-regex={SPLIT_AT}"],
    "examples-fuzzing-stateful": ["--phases", "examples,fuzzing,stateful"],
}
# The public reaches little beyond 401; the stateful phase is the secretariat's. Every operation outside
# these tags answers the public 401 before reading its input (tests/e2e/test_authorisation.py checks that
# route by route).
PUBLIC_PARTS = {
    "public": ["--phases", "examples,coverage,fuzzing", *[f"--include-tag={tag}" for tag in PUBLIC_TAGS]],
}


@pytest.mark.parametrize("token", [ADMIN_TOKEN, None], ids=["secretariat", "public"])
def test_the_api_keeps_to_its_openapi_schema(engine: RunningEngine, token: str | None) -> None:
    command = [
        *schemathesis_cli(),
        "--no-color",
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{engine.url}/openapi.json",
        "--max-examples",
        "4" if token else "3",  # the public reaches 401 at once, and little more
        "--workers",
        "1",
        "--request-timeout",
        "40",
        "--seed",
        "20261126",
        *(["--header", f"Authorization: Bearer {token}"] if token else []),
    ]
    parts = SECRETARIAT_PARTS if token else PUBLIC_PARTS
    hooks = {"SCHEMATHESIS_HOOKS": str(HERE / "schemathesis_hooks.py")}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    outputs = {name: ARTIFACTS / f"schemathesis-{name}.txt" for name in parts}
    running: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, options in parts.items():
            with outputs[name].open("w") as output:
                running[name] = subprocess.Popen(
                    [*command, *options], stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **hooks}
                )
        deadline = time.monotonic() + 420
        codes = {name: run.wait(timeout=max(0.0, deadline - time.monotonic())) for name, run in running.items()}
    except subprocess.TimeoutExpired:
        codes = {name: run.returncode for name, run in running.items()}  # None: still running at the deadline
    finally:
        for run in running.values():
            run.kill()
            run.wait()
    for name, code in codes.items():
        assert code == 0, f"{name} (exit {code}):\n{outputs[name].read_text()[-6000:]}"
