"""A webhook's delivery on a real dev server: an endpoint that fails at first is tried again, the pauses
doubling, under one `webhook-id`, and the change is recorded delivered once it answers; a change queued
while no relay ran is started by the reconciler, delivered once."""

from __future__ import annotations

import asyncio
import threading
from uuid import UUID

from clusterlabel.activities.open_records import waiting_webhook_deliveries
from clusterlabel.activities.webhook_delivery import DeliveryRefused, WebhookPost
from clusterlabel.domain.webhook_commands import RegisterWebhook
from clusterlabel.domain.webhook_delivery import WebhookDelivery, WebhookDeliveryStatus
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.worker import start_delivering, stop_delivering
from clusterlabel.workflows.reconciler import Reconciler
from clusterlabel.workflows.webhook_delivery import webhook_delivery_workflow_id
from tests.builders import register
from tests.lifecycle import Lifecycle
from tests.workflows.harness import Secretariat, checked_worker, office_on, run

TRIES = {"webhook_attempts": 4, "webhook_backoff": "PT1S"}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Secrets:
    def secret_of(self, webhook_id: UUID) -> str | None:
        return SECRET


class Endpoint:
    """Refuses the first `refusals` posts (HTTP 503), then takes them; keeps each post's headers."""

    def __init__(self, refusals: int = 0) -> None:
        self.refusals = refusals
        self.posts: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, url: str, body: str, headers: dict[str, str]) -> int:
        with self._lock:
            self.posts.append(headers)
            if len(self.posts) <= self.refusals:
                raise DeliveryRefused("HTTP 503: try later")
        return 204


async def delivered(office: Secretariat, delivery_id: UUID, timeout: float = 60.0) -> WebhookDelivery:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        delivery = office.app.load(delivery_id, WebhookDelivery)
        if delivery.status is not WebhookDeliveryStatus.QUEUED:
            return delivery
        assert asyncio.get_running_loop().time() < deadline, f"delivery {delivery_id} stayed queued"
        await asyncio.sleep(0.1)


def queue_one(office: Secretariat) -> UUID:
    """A webhook told of issued labels, and a label issued: its delivery, queued."""
    hook = RegisterWebhook(url="https://partner.example.org/hooks", events=["label.issued"])
    register(office.app, hook, actor="account:admin")
    Lifecycle(office.app).labelled()
    [delivery_id] = waiting_webhook_deliveries(office.app)
    return delivery_id


def test_an_endpoint_failing_at_first_is_tried_again_under_one_id_and_the_change_recorded_delivered(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, _ = await office_on(dev_server, "webhook-retried", **TRIES)
        endpoint = Endpoint(refusals=2)
        way_out = WebhookPost(Secrets(), post=endpoint)
        async with checked_worker(office.client, office.app, office.task_queue, activity_threads=4, webhooks=way_out):
            relay = start_delivering(office.client, office.app, office.task_queue)
            try:
                await asyncio.sleep(0.2)  # the relay follows the log from where it stood when it started
                delivery = await delivered(office, queue_one(office))
            finally:
                await stop_delivering(relay)

        assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.DELIVERED, 3)
        assert len(endpoint.posts) == 3
        assert len({headers["webhook-id"] for headers in endpoint.posts}) == 1
        stamps = [int(headers["webhook-timestamp"]) for headers in endpoint.posts]
        assert stamps == sorted(stamps) and stamps[-1] - stamps[0] >= 3, "paused 1 s, then 2 s"

    run(scenario())


def test_a_change_queued_while_no_relay_ran_is_started_by_the_reconciler_and_delivered_once(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "webhook-reconciled", **TRIES)
        endpoint = Endpoint()
        delivery_id = queue_one(office)
        way_out = WebhookPost(Secrets(), post=endpoint)
        async with checked_worker(office.client, office.app, office.task_queue, activity_threads=4, webhooks=way_out):
            report = await Reconciler(client, office.app, office.task_queue).reconcile()
            assert webhook_delivery_workflow_id(delivery_id) in report.started
            delivery = await delivered(office, delivery_id)
            again = await Reconciler(client, office.app, office.task_queue).reconcile()

        assert delivery.status is WebhookDeliveryStatus.DELIVERED
        assert (again.started, again.problems) == ([], [])
        assert len(endpoint.posts) == 1

    run(scenario())
