"""One real engine per test module (started once: Temporal, worker, projections, HTTP), never per test, and
the secretariat's members signed in on its pages (a module with an engine or a secretariat of its own
gets its members there)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.driver import Secretariat
from tests.e2e.engine import HOUR_POLICY, RunningEngine, running_engine
from tests.e2e.page_session import pages_as, token_of
from tests.e2e.pages_client import Pages


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


@pytest.fixture(scope="module")
def officer(engine: RunningEngine, secretariat: Secretariat) -> Pages:
    return pages_as(engine, token_of(secretariat.member("Olga Officer", "officer")))


@pytest.fixture(scope="module")
def decider(engine: RunningEngine, secretariat: Secretariat) -> Pages:
    return pages_as(engine, token_of(secretariat.member("Dora Decider", "decider")))


@pytest.fixture(scope="module")
def admin(engine: RunningEngine, secretariat: Secretariat) -> Pages:
    return pages_as(engine, token_of(secretariat.member("Ada Admin", "admin")))
