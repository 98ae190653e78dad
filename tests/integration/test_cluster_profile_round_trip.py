"""A cluster's profile read (GET /clusters/{id}), changed and sent back (PUT …/profile) keeps every field it
did not change: its English website and its postal address were left out of the answer, so a round trip
reset them (an ineligible cluster read as eligible, and its certificate lost its address)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterlabel.interfaces.engine import Engine
from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.app import create_app
from tests.builders import cluster_profile
from tests.integration.test_evidence_api import Http, bearer

TOKEN = "profile-round-trip-admin-token"
PROFILE_FIELDS = set(cluster_profile().model_dump())


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(Settings(data_dir=tmp_path, admin_token=TOKEN), with_worker=False)
    yield engine
    asyncio.run(engine.stop())


def test_a_profile_read_changed_and_sent_back_keeps_what_it_did_not_change(engine: Engine) -> None:
    api, officer = Http(create_app(engine.services, pages=False)), bearer(TOKEN)
    registered = cluster_profile(english_website=False, address="Naujoji Uosto 8, 92125 Klaipeda").model_dump()
    cluster_id = api.post("/clusters", json=registered, headers=officer).json()["cluster_id"]

    read = api.get(f"/clusters/{cluster_id}", headers=officer).json()
    sent_back = {field: read[field] for field in PROFILE_FIELDS} | {"members": read["members"] + 1}
    answer = api.request("PUT", f"/clusters/{cluster_id}/profile", json=sent_back, headers=officer)

    assert answer.status_code == 200, answer.text
    kept = api.get(f"/clusters/{cluster_id}", headers=officer).json()
    assert (kept["english_website"], kept["address"]) == (False, "Naujoji Uosto 8, 92125 Klaipeda")
    assert kept["members"] == registered["members"] + 1
