"""The fixtures the unit tests share: a clock the test moves by hand, and a lifecycle on an in-memory
application that reads it."""

from __future__ import annotations

import pytest

from tests.lifecycle import Clock, Lifecycle, memory_app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def life(clock: Clock) -> Lifecycle:
    return Lifecycle(memory_app(clock=clock))
