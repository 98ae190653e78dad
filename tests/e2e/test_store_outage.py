"""While the PostgreSQL server is down, a write answers 503 with Retry-After and says to send it again under
the same Idempotency-Key (it answered 500, "internal error", before: the scaled-out fault scenario found it);
once the server is back the same request goes through, carried out once.

On a PostgreSQL server of the test's own (tests/e2e/faulted.py), so that stopping it stops nobody else's.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.driver import cluster_body
from tests.e2e.engine import ADMIN_TOKEN, HOUR_POLICY, running_engine
from tests.e2e.faulted import private_postgres

pytestmark = pytest.mark.postgres


def test_a_write_during_a_database_outage_answers_503_and_goes_through_once_the_database_is_back(
    tmp_path: Path,
) -> None:
    with (
        private_postgres() as postgres,
        running_engine(tmp_path / "data", HOUR_POLICY, args=["--database-url", postgres.url]) as engine,
    ):
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Idempotency-Key": uuid.uuid4().hex}
        body = cluster_body()
        postgres.stop()
        try:
            away = httpx.post(f"{engine.url}/clusters", json=body, headers=headers, timeout=60)
        finally:
            postgres.start()
        assert away.status_code == 503, away.text
        assert away.headers["Retry-After"] == "5"
        assert "try again (with the same Idempotency-Key)" in away.json()["detail"]

        # As the 503 says: again, under the same key (a connection or two cut by the outage may still answer 503).
        for _ in range(20):
            created = httpx.post(f"{engine.url}/clusters", json=body, headers=headers, timeout=60)
            if created.status_code != 503:
                break
            time.sleep(0.5)
        assert created.status_code == 201, created.text
        again = httpx.post(f"{engine.url}/clusters", json=body, headers=headers, timeout=60)
        assert again.json() == created.json()
