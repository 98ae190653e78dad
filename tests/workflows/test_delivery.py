"""Delivery on a real dev server: the relay starts a workflow for each message queued, which sends it once
under its Message-ID and records it sent; a way out that keeps failing (or a recipient without an
address) ends in Failed with the last reason after the policy's tries, and an officer's retry sends it;
the reconciler starts the delivery of a message queued while no relay ran."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from email.message import EmailMessage
from uuid import UUID

from temporalio.client import Client

from clusterlabel.activities.delivery import Mailroom
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.mail import Accepted, Address, MailError, NoAddress, TokenBucket
from clusterlabel.activities.open_records import waiting_messages
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.notification import DeliveryStatus, Notification
from clusterlabel.domain.record_commands import RetryDelivery
from clusterlabel.interfaces.temporal_server import EmbeddedTemporal
from clusterlabel.interfaces.worker import start_delivering, stop_delivering
from clusterlabel.workflows.delivery import delivery_workflow_id
from clusterlabel.workflows.reconciler import Reconciler
from clusterlabel.workflows.starter import restart_delivery_workflow
from tests.lifecycle import SECRETARIAT, Lifecycle
from tests.workflows.harness import Secretariat, checked_worker, office_on, run
from tests.workflows.test_replay import HISTORIES, RECORD, every_run, replay

DELIVERY_HISTORIES = HISTORIES / "delivery-v1"
TRIES = {"delivery_attempts": 3, "delivery_backoff": "PT1S"}  # a failing message gives up after about 3 s


async def keep_and_replay(client: Client, names: dict[str, str]) -> None:
    """Replay the runs of these workflows against the current code, and keep each one's (in the stored set
    that test_replay.py replays) when none is stored yet, or when asked to re-record."""
    recorded = {name: await every_run(client, workflow_id) for name, workflow_id in names.items()}
    DELIVERY_HISTORIES.mkdir(parents=True, exist_ok=True)
    for name, histories in recorded.items():
        if RECORD or not any(DELIVERY_HISTORIES.glob(f"{name}-*.json")):
            for number, history in enumerate(sorted(histories, key=lambda h: h.events[0].event_time.ToDatetime())):
                (DELIVERY_HISTORIES / f"{name}-{number}.json").write_text(history.to_json())
    await replay([history for runs in recorded.values() for history in runs])


class Postbox:
    """A way out that keeps what it is given, or refuses it while `failing` says why."""

    channel = "email"

    def __init__(self) -> None:
        self.delivered: list[tuple[EmailMessage, list[str]]] = []
        self.failing: str | None = None
        self.tries = 0
        self._lock = threading.Lock()

    def send(self, mail: EmailMessage, sender: str, to: Sequence[str]) -> Accepted:
        with self._lock:
            self.tries += 1
            if self.failing:
                raise MailError(self.failing)
            self.delivered.append((mail, list(to)))
        return Accepted("250 2.0.0 Ok: queued")

    def where(self) -> str:
        return "a test's postbox"


class AddressBook:
    """Addresses of the recipients it knows; no address for any other."""

    def __init__(self) -> None:
        self.known: dict[str, list[Address]] = {}

    def of(self, recipient: str) -> list[Address]:
        if recipient not in self.known:
            raise NoAddress(f"no address: {recipient} has none")
        return self.known[recipient]


@asynccontextmanager
async def delivering(
    office: Secretariat, postbox: Postbox, book: AddressBook, relay: bool = True
) -> AsyncIterator[None]:
    """A worker that sends through the postbox, and (unless not) the relay beside it."""
    mailroom = Mailroom(
        addresses=book,
        transport=postbox,
        sender="secretariat@esca.example",
        pace=TokenBucket(50, 1),
        public_url="http://clusterlabel.test",
    )
    async with checked_worker(office.client, office.app, office.task_queue, activity_threads=4, mailroom=mailroom):
        started = start_delivering(office.client, office.app, office.task_queue) if relay else None
        try:
            yield
        finally:
            await stop_delivering(started)


async def status_of(
    office: Secretariat, message_id: UUID, wanted: DeliveryStatus, timeout: float = 90.0
) -> Notification:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        message = office.app.load(message_id, Notification)
        if message.status is wanted:
            return message
        assert asyncio.get_running_loop().time() < deadline, f"message {message_id} stayed {message.status.value}"
        await asyncio.sleep(0.1)


def everyone(book: AddressBook, life: Lifecycle) -> None:
    """Each expert and the cluster with one address, as accounts would give them."""
    for number, expert_id in enumerate(life.experts):
        book.known[f"expert:{expert_id}"] = [Address(f"expert{number}@experts.example", f"account:{expert_id}")]
    book.known[f"cluster:{life.cluster_id}"] = [Address("contact@cluster.example", "account:contact")]


def test_each_message_queued_is_sent_once_under_its_message_id_and_recorded_sent(dev_server: EmbeddedTemporal) -> None:
    async def scenario() -> None:
        office, _ = await office_on(dev_server, "delivery", **TRIES)
        postbox, book = Postbox(), AddressBook()
        async with delivering(office, postbox, book):
            life = Lifecycle(office.app)
            life.expert()
            everyone(book, life)
            # The offer to the expert; to the cluster, its team to agree to, its invoice and its label's message.
            _, label_id = life.labelled()
            offer, to_agree, invoice, issued = waiting_messages(office.app)
            queued = (offer, to_agree, invoice, issued)
            sent = [await status_of(office, message_id, DeliveryStatus.SENT) for message_id in queued]

            await keep_and_replay(office.client, {"sent": delivery_workflow_id(offer)})

        assert [message.attempts for message in sent] == [1, 1, 1, 1]
        assert sorted(mail["Message-ID"] for mail, _ in postbox.delivered) == sorted(
            f"<{message_id}@clusterlabel>" for message_id in queued
        )
        to = {mail["Message-ID"]: addresses for mail, addresses in postbox.delivered}
        assert to[f"<{issued}@clusterlabel>"] == ["contact@cluster.example"]
        label_code = office.app.get_label(label_id).label_code
        assert (
            label_code
            in next(mail for mail, _ in postbox.delivered if mail["Message-ID"] == f"<{issued}@clusterlabel>")
            .get_body(("plain",))
            .get_content()
        )

    run(scenario())


def test_a_message_that_cannot_go_out_fails_with_the_last_reason_and_an_officers_retry_sends_it(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "delivery-fails", **TRIES)
        postbox, book = Postbox(), AddressBook()
        postbox.failing = "421 4.3.2 Service not available"
        async with delivering(office, postbox, book):
            life = Lifecycle(office.app)
            life.expert()
            everyone(book, life)
            del book.known[f"cluster:{life.cluster_id}"]  # the cluster has no contact yet
            life.labelled()
            offer, _, _, issued = waiting_messages(
                office.app
            )  # the team to agree to and the invoice go to the cluster too
            failed = await status_of(office, offer, DeliveryStatus.FAILED)
            unaddressed = await status_of(office, issued, DeliveryStatus.FAILED)
            assert (failed.attempts, unaddressed.attempts) == (3, 3)

            postbox.failing = None
            retry = Envelope(actor=SECRETARIAT, key=f"retry-{offer}")
            await asyncio.to_thread(handle, office.app, offer, RetryDelivery(), retry)
            await restart_delivery_workflow(client, offer, office.task_queue, office.app.policy)
            resent = await status_of(office, offer, DeliveryStatus.SENT)
            await keep_and_replay(client, {"failed-then-retried": delivery_workflow_id(offer)})

        assert (resent.attempts, resent.round) == (4, 2)
        assert len(postbox.delivered) == 1 and postbox.tries == 4
        history = [type(event).__name__ for event in office.app.repository.event_store.get(issued)]
        assert history == ["Queued", "Failed"]
        reasons = {event.reason for event in office.app.repository.event_store.get(offer) if hasattr(event, "reason")}
        assert reasons == {"421 4.3.2 Service not available"}
        why = next(event for event in office.app.repository.event_store.get(issued) if hasattr(event, "reason"))
        assert f"cluster:{life.cluster_id} has none" in why.reason

    run(scenario())


def test_the_reconciler_starts_the_delivery_of_a_message_queued_while_no_relay_ran(
    dev_server: EmbeddedTemporal,
) -> None:
    async def scenario() -> None:
        office, client = await office_on(dev_server, "delivery-reconciled", **TRIES)
        postbox, book = Postbox(), AddressBook()
        life = Lifecycle(office.app)
        life.expert()
        everyone(book, life)
        life.labelled()  # queued before any relay runs
        queued = waiting_messages(office.app)
        async with delivering(office, postbox, book, relay=False):
            report = await Reconciler(client, office.app, office.task_queue).reconcile()
            assert (
                report.messages_queued == 4
            )  # the offer; the team to agree to, the invoice and the label, to the cluster
            deliveries = sorted(started for started in report.started if started.startswith("notification-"))
            assert deliveries == sorted(delivery_workflow_id(message_id) for message_id in queued)
            for message_id in queued:
                await status_of(office, message_id, DeliveryStatus.SENT)
            again = await Reconciler(client, office.app, office.task_queue).reconcile()

        assert (again.messages_queued, again.started, again.problems) == (0, [], [])
        assert len(postbox.delivered) == 4

    run(scenario())
