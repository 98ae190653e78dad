"""Partners' webhooks on the real engine, received by real HTTP endpoints on this machine: an
administrator registers them, a label's lifecycle is told to each as it asked, signed so that the
Standard Webhooks reference library verifies it; an endpoint that keeps answering 500 is tried again,
then disabled at the policy's limit, and the secretariat is told.

One story runs once for the module; each test checks one clause of the contract on what it recorded.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tests.e2e.driver import Secretariat
from tests.e2e.engine import HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.webhook_receiver import Delivery, Receiver

WEBHOOK_POLICY = {
    **HOUR_POLICY,
    "webhook_attempts": 3,  # tries 1 and 2 s apart
    "webhook_backoff": "PT1S",
    "webhook_disable_after": 2,
}
LIFECYCLE = ["label.issued", "label.suspended", "label.restored", "label.withdrawn"]


@dataclass
class Story:
    engine: RunningEngine
    secretariat: Secretariat
    partner: Receiver
    failing: Receiver
    told: dict[str, Any]  # POST /webhooks for the partner
    broken: dict[str, Any]  # POST /webhooks for the failing endpoint
    label: dict[str, Any]


def kinds(deliveries: list[Delivery]) -> list[str]:
    return [json.loads(delivery.body)["type"] for delivery in deliveries]


def in_order_of_change(deliveries: list[Delivery]) -> list[Delivery]:
    """Each change is delivered on its own, so two close together may arrive either way round; the
    partner orders them by the change's `timestamp`, as the README tells it to."""
    return sorted(deliveries, key=lambda delivery: datetime.fromisoformat(json.loads(delivery.body)["timestamp"]))


def webhooks(secretariat: Secretariat) -> dict[str, dict[str, Any]]:
    return {hook["webhook_id"]: hook for hook in secretariat.expect(secretariat.api.get("/webhooks"), 200)}


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with (
        Receiver() as partner,
        Receiver(status=500) as failing,
        running_engine(tmp_path_factory.mktemp("webhooks") / "data", WEBHOOK_POLICY) as engine,
    ):
        yield tell_the_story(engine, partner, failing)


def tell_the_story(engine: RunningEngine, partner: Receiver, failing: Receiver) -> Story:
    secretariat = Secretariat(engine)
    admin = secretariat.member("Wanda Webhooks", "admin")
    told = secretariat.expect(admin.post("/webhooks", json={"url": partner.url(), "events": LIFECYCLE}), 201)
    broken_body = {"url": failing.url(), "events": ["label.issued", "label.suspended", "label.restored"]}
    broken = secretariat.expect(admin.post("/webhooks", json=broken_body), 201)
    secretariat.expert(name="Henrik Hooks")
    label_id = secretariat.award(secretariat.apply(secretariat.cluster(name="Hook Valley Cluster")))
    for step, body in (
        ("suspension", {"reason": "complaint"}),
        ("restoration", None),
        ("withdrawal", {"reason": "misuse"}),
    ):
        secretariat.expect(secretariat.api.post(f"/labels/{label_id}/{step}", json=body), 200)
    eventually(lambda: len(partner.deliveries()) >= len(LIFECYCLE), 60, "every change at the partner")
    return Story(engine, secretariat, partner, failing, told, broken, secretariat.label(label_id))


def test_registering_answers_a_secret_as_the_specification_writes_it(story: Story) -> None:
    assert story.told["secret"].startswith("whsec_")
    assert story.told["webhook_id"] != story.broken["webhook_id"]


def test_the_partner_receives_each_change_of_the_label_signed_and_with_its_data(story: Story) -> None:
    verifier = Verifier(story.told["secret"])
    deliveries = in_order_of_change(story.partner.deliveries())

    assert kinds(deliveries) == LIFECYCLE
    assert len({json.loads(delivery.body)["timestamp"] for delivery in deliveries}) == len(LIFECYCLE)
    for delivery in deliveries:
        body = verifier.verify(delivery.body, delivery.headers)
        assert body["data"]["label_id"] == story.label["label_id"]
        assert body["data"]["label_code"] == story.label["label_code"]
        assert body["data"]["cluster_id"] == story.label["cluster_id"]
    statuses = [json.loads(delivery.body)["data"]["status"] for delivery in deliveries]
    assert statuses == ["active", "suspended", "active", "withdrawn"]
    assert len({delivery.headers["webhook-id"] for delivery in deliveries}) == len(LIFECYCLE)


def test_the_administrator_reads_each_delivery_as_delivered(story: Story) -> None:
    def recorded() -> list[dict[str, Any]] | None:
        answer = story.secretariat.api.get(f"/webhooks/{story.told['webhook_id']}/deliveries")
        found: list[dict[str, Any]] = story.secretariat.expect(answer, 200)
        return found if {delivery["status"] for delivery in found} == {"delivered"} else None

    deliveries = eventually(recorded, 30, "every delivery recorded delivered")

    assert sorted(delivery["kind"] for delivery in deliveries) == sorted(LIFECYCLE)
    assert {(delivery["status"], delivery["attempts"], delivery["status_code"]) for delivery in deliveries} == {
        ("delivered", 1, 204)
    }
    huge = {"offset": 10**20}  # past what the database binds: refused, not a 500
    answer = story.secretariat.api.get(f"/webhooks/{story.told['webhook_id']}/deliveries", params=huge)
    assert answer.status_code == 422 and "offset" in answer.text


def test_a_failing_endpoint_is_tried_again_then_disabled_and_the_secretariat_is_told(story: Story) -> None:
    secretariat, hook_id = story.secretariat, story.broken["webhook_id"]

    disabled = eventually(lambda: webhooks(secretariat)[hook_id]["status"] == "disabled", 60, "the webhook disabled")

    assert disabled
    tries = Counter((json.loads(d.body)["type"], d.headers["webhook-id"]) for d in story.failing.deliveries())
    assert 3 in tries.values(), "a failed delivery was tried three times under one webhook-id"
    assert max(tries.values()) == 3
    assert "deliveries failed in a row" in webhooks(secretariat)[hook_id]["disabled_because"]
    notices = secretariat.expect(secretariat.api.get("/notifications", params={"limit": 500}), 200)
    assert [n for n in notices if n["kind"] == "webhook_disabled" and n["recipient"] == "secretariat"]
    failed = secretariat.expect(secretariat.api.get(f"/webhooks/{hook_id}/deliveries"), 200)
    assert {"failed"} <= {delivery["status"] for delivery in failed}
    assert all(d["reason"].startswith("HTTP 500") for d in failed if d["status"] == "failed")


def test_the_administrator_enables_a_disabled_webhook_again_and_deletes_it(story: Story) -> None:
    secretariat, hook_id = story.secretariat, story.broken["webhook_id"]
    eventually(lambda: webhooks(secretariat)[hook_id]["status"] == "disabled", 60, "the webhook disabled")

    enabled = secretariat.expect(secretariat.api.post(f"/webhooks/{hook_id}/enable"), 200)
    assert (enabled["status"], enabled["failures_in_a_row"]) == ("enabled", 0)
    assert secretariat.api.post(f"/webhooks/{hook_id}/enable").status_code == 409

    assert secretariat.api.delete(f"/webhooks/{hook_id}").status_code == 204
    assert hook_id not in webhooks(secretariat)


def test_plain_http_to_another_host_or_an_unknown_kind_is_422_and_records_nothing(story: Story) -> None:
    secretariat = story.secretariat
    before = webhooks(secretariat)

    for body in (
        {"url": "http://partner.example.org/hooks", "events": ["label.issued"]},
        {"url": "https://partner.example.org/hooks", "events": ["label.renamed"]},
        {"url": "https://partner.example.org/hooks", "events": []},
    ):
        answer = secretariat.api.post("/webhooks", json=body)
        assert answer.status_code == 422, answer.text

    assert webhooks(secretariat) == before


def test_only_an_administrator_manages_webhooks(story: Story) -> None:
    officer = story.secretariat.member("Otto Officer-Not-Admin", "officer")

    assert (
        officer.post("/webhooks", json={"url": "https://p.example.org/", "events": ["label.issued"]}).status_code == 403
    )
    assert officer.get("/webhooks").status_code == 403
