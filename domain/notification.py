"""The outbox: every message the engine sends (offers, reminders, escalations, a label's issue) as a fact,
and what became of it.

queued → sent (to whom, the server's reply, its Message-ID) or failed (why, after how many tries);
an officer may queue a failed message again, and its delivery starts over. A message's recipient names
an account or a role (`expert:<id>`, `cluster:<id>`, `secretariat`), never an address: the address is
looked up when the message is sent, so a changed address is used from then on, and the events name
who was reached (`account:<id>`), never the person's address (see interfaces/web/people.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain.base import RecordedAggregate, StepNotAllowed
from clusterlabel.domain.delivery_steps import DeliverySteps


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # waiting for its delivery (a workflow sends it)
    SENT = "sent"
    FAILED = "failed"  # every try failed; an officer may queue it again


# The status each event (by class name) leaves a message in; the aggregate and the views follow it.
STATUS_AFTER: dict[str, DeliveryStatus] = {
    "Queued": DeliveryStatus.QUEUED,
    "Delivered": DeliveryStatus.SENT,  # how a sent message was recorded before delivery had its workflow
    "Sent": DeliveryStatus.SENT,
    "Failed": DeliveryStatus.FAILED,
    "Requeued": DeliveryStatus.QUEUED,
}


@dataclass(frozen=True)
class Delivery:
    """How a message went out: the fields of its Sent event."""

    channel: str  # email or maildir
    recipients: list[str]  # whom it reached: account:<id>, or secretariat (never an address)
    message_id: str  # its Message-ID header
    reply: str  # what the mail server answered
    attempts: int  # the tries it took


class Notification(DeliverySteps, RecordedAggregate):
    """One message to one recipient; its id comes from its key, so a retry queues nothing twice."""

    id_kind = "notification"
    noun = "message"
    status_after = STATUS_AFTER

    class Queued(RecordedAggregate.Created):
        """Version 2 adds `data`: what the kind's template says the message with (a case id, a label
        code, a date), so that it is worded when it is sent, in the recipient's language. `subject` and
        `body` stay the English text as queued: what a message queued before templates says."""

        class_version = 2
        recipient: str
        kind: str
        subject: str
        body: str
        case_id: UUID | None
        label_id: UUID | None
        actor: str
        command_key: str
        data: dict[str, str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["data"] = {}  # queued before templates: its stored text is all it says

    @event(Queued)
    def __init__(
        self,
        recipient: str,
        kind: str,
        subject: str,
        body: str,
        case_id: UUID | None,
        label_id: UUID | None,
        actor: str,
        command_key: str,
        data: dict[str, str] | None = None,
    ) -> None:
        self.recipient = recipient
        self.kind = kind
        self.subject = subject
        self.body = body
        self.data = dict(data or {})
        self.case_id = case_id
        self.label_id = label_id
        self.status = DeliveryStatus.QUEUED
        self.round = 1  # how many times it was queued: each round's delivery records under its own key
        self.attempts = 0  # tries over every round

    def record_sent(self, at: datetime, delivery: Delivery, actor: str, command_key: str) -> None:
        self._check_waiting("be sent")
        self._sent(at=at, actor=actor, command_key=command_key, **asdict(delivery))

    @event("Sent")
    def _sent(
        self,
        at: datetime,
        channel: str,
        recipients: list[str],
        message_id: str,
        reply: str,
        attempts: int,
        actor: str,
        command_key: str,
    ) -> None:
        self._after("Sent", attempts)

    @event("Failed")
    def _failed(self, at: datetime, reason: str, attempts: int, actor: str, command_key: str) -> None:
        self._after("Failed", attempts)

    def requeue(self, at: datetime, actor: str, command_key: str) -> None:
        """Send a failed message again (an officer's step): its delivery starts over."""
        if self.status is not DeliveryStatus.FAILED:
            raise StepNotAllowed(f"message {self.id} is {self.status.value}; only a failed message is sent again")
        self._requeued(at=at, actor=actor, command_key=command_key)

    @event("Requeued")
    def _requeued(self, at: datetime, actor: str, command_key: str) -> None:
        self._after("Requeued")
        self.round += 1

    # Messages marked delivered before delivery had its workflow still replay (nothing records it now).
    @event("Delivered")
    def _delivered(self, channel: str, actor: str, command_key: str) -> None:
        self._after("Delivered")
