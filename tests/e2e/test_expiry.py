"""Time passing on a policy compressed to seconds: a label expires, its renewal window closes, and then
the cluster must apply anew."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from clusterlabel.domain.label_lifecycle import last_valid_day
from tests.e2e.driver import Secretariat
from tests.e2e.engine import HOUR_POLICY, RunningEngine, eventually, running_engine

SHORT_LIVED = {**HOUR_POLICY, "label_validity": "PT8S", "renewal_window": "PT4S", "expiry_reminders": ["PT4S"]}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    with running_engine(tmp_path_factory.mktemp("short") / "data", SHORT_LIVED) as running:
        yield running


def test_a_label_expires_then_lapses_and_can_no_longer_be_renewed(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    label_id = secretariat.award(secretariat.apply(secretariat.cluster(name="Nordic Energy Cluster", country="FI")))
    label = secretariat.label(label_id)
    public = httpx.Client(base_url=engine.url)

    def verified() -> dict[str, str]:
        return dict(public.get(f"/labels/{label_id}/verify", params={"code": label["verification_code"]}).json())

    # Public reads answer from the registry view as it stands (X-View-Age): it shows the label once it has read it.
    eventually(lambda: verified()["status"] == "valid" or None, 10, "the registry to show the label")
    expired = eventually(lambda: (lambda v: v if v["status"] == "expired" else None)(verified()), 20, "expiry")
    assert datetime.fromisoformat(expired["since"]) >= datetime.fromisoformat(label["valid_until"])
    assert "expired" in public.get(f"/labels/{label_id}/badge.svg").text.lower()

    lapsed = eventually(
        lambda: (lambda label: label if label["state"] == "lapsed" else None)(secretariat.label(label_id)),
        30,
        "the lapse",
    )
    assert lapsed["state"] == "lapsed"
    refused = secretariat.api.post(f"/labels/{label_id}/renewal")
    assert refused.status_code == 409, refused.text
    last_day = last_valid_day(datetime.fromisoformat(lapsed["renewable_until"]))
    assert f"closed on {last_day:%Y-%m-%d}; the cluster must apply anew" in refused.json()["detail"]
    # ...and so it may: a new application is accepted.
    assert secretariat.apply(label["cluster_id"])
