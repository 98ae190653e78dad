"""One real engine per test module (started once: Temporal, worker, projections, HTTP), never per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.driver import Secretariat
from tests.e2e.engine import HOUR_POLICY, RunningEngine, running_engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    with running_engine(tmp_path_factory.mktemp("engine") / "data", HOUR_POLICY) as running:
        yield running


@pytest.fixture(scope="module")
def secretariat(engine: RunningEngine) -> Secretariat:
    secretariat = Secretariat(engine)
    secretariat.expert(name="Aaron Auditor", country="DE")  # proposed first: names sort the eligible experts
    secretariat.expert(name="Berit Benchmarker", country="SE")
    return secretariat
