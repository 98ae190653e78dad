"""The delivery activities: send one message of the outbox, and record what became of it.

`send_message` looks up the recipient's addresses when it runs (so a changed address is used from then
on), waits for this process's pace, and hands the mail to the transport; Temporal retries it with the
policy's backoff. It records nothing: `record_delivery` does, as a separate step, so that a store that
is briefly away never makes a message go out twice. A failure names the try it was and the message's
round, so the workflow records how many tries a failed message had, under the key of that round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.certification import unit_of_work
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.mail import (
    Accepted,
    Address,
    Addresses,
    MailError,
    NoAddress,
    TokenBucket,
    Transport,
    compose,
    message_id,
    plain_reply,
)
from clusterlabel.activities.models import DeliveryOutcome, SendMessage
from clusterlabel.activities.outbox import delivery_key
from clusterlabel.domain.command import Command, Envelope
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.record_commands import RecordDeliveryFailure, RecordSent

DELIVERY_ACTOR = "system:delivery"
SENT_FIELDS = {"channel", "recipients", "message_id", "reply", "attempts"}
FAILURE_TYPE = "DeliveryFailed"  # the ApplicationError type of a failed try (Temporal retries it)
log = structlog.stdlib.get_logger(__name__)


@dataclass(frozen=True)
class Mailroom:
    """What delivery needs beyond the event store: who has which address, the way out, the sender and
    the pace of this process."""

    addresses: Addresses
    transport: Transport
    sender: str
    pace: TokenBucket


class DeliveryActivities:
    def __init__(self, app: CertificationApp, mailroom: Mailroom) -> None:
        self.app = app
        self.mailroom = mailroom

    def all(self) -> list[Callable[..., Any]]:
        return [self.send_message, self.record_delivery]

    @activity.defn(no_thread_cancel_exception=True)
    def send_message(self, input: SendMessage) -> DeliveryOutcome:
        """Send the message unless it is no longer queued; a failed try raises, naming its attempt."""
        with unit_of_work(notification_id=input.notification_id):
            message = self.app.load(input.notification_id, Notification)
            if not message.waiting:
                return _skipped(message)
            attempt = activity.info().attempt if activity.in_activity() else 1
            tried = {"attempt": attempt, "round": message.round}
            to = self._addresses(message, tried)
            waited = self.mailroom.pace.take()
            mail = compose(message, to, self.mailroom.sender, self.app.clock())
            try:
                accepted = self.mailroom.transport.send(mail, self.mailroom.sender, [address.email for address in to])
            except MailError as error:
                raise _failed_try(plain_reply(str(error), to), tried) from error
            log.info("message sent", channel=self.mailroom.transport.channel, attempt=attempt, waited=round(waited, 3))
            return self._sent(message, to, accepted, attempt)

    def _sent(self, message: Notification, to: list[Address], accepted: Accepted, attempt: int) -> DeliveryOutcome:
        reached = [address for address in to if address.email not in accepted.refused]
        refusals = [
            f"refused {address.who}: {accepted.refused[address.email]}" for address in to if address not in reached
        ]
        return DeliveryOutcome(
            notification_id=message.id,
            status="sent",
            round=message.round,
            attempts=attempt,
            channel=self.mailroom.transport.channel,
            recipients=[address.who for address in reached],
            message_id=message_id(message.id),
            reply=plain_reply("\n".join([accepted.reply, *refusals]), to),
        )

    def _addresses(self, message: Notification, tried: dict[str, int]) -> list[Address]:
        try:
            return self.mailroom.addresses.of(message.recipient)
        except NoAddress as error:
            # Retried like any failed try: an account or a contact may be opened meanwhile.
            raise _failed_try(str(error), tried) from error

    @activity.defn(no_thread_cancel_exception=True)
    def record_delivery(self, outcome: DeliveryOutcome) -> DeliveryOutcome:
        """Record the message sent or failed (once per round: a retry records nothing twice)."""
        with unit_of_work(notification_id=outcome.notification_id):
            message = self.app.load(outcome.notification_id, Notification)
            envelope = Envelope(actor=DELIVERY_ACTOR, key=delivery_key(message, outcome.status, outcome.round))
            if outcome.status == "skipped" or not (message.waiting or message.has_applied(envelope.key)):
                return _skipped(message)  # sent or failed before: nothing to record
            command: Command
            if outcome.status == "sent":
                command = RecordSent(**outcome.model_dump(include=SENT_FIELDS))
            else:
                command = RecordDeliveryFailure(reason=outcome.reply or "no reason given", attempts=outcome.attempts)
                log.warning("message not delivered", attempts=outcome.attempts, reason=outcome.reply)
            handle(self.app, message.id, command, envelope)
            return outcome


def _failed_try(reason: str, tried: dict[str, int]) -> ApplicationError:
    return ApplicationError(reason, tried, type=FAILURE_TYPE)


def _skipped(message: Notification) -> DeliveryOutcome:
    return DeliveryOutcome(notification_id=message.id, status="skipped", attempts=message.attempts)


def failed_try(details: Any, attempts: int) -> tuple[int, int]:
    """The (attempt, round) a failure's details name (see _failed_try); else `attempts` and the current round."""
    known = details if isinstance(details, dict) else {}
    attempt, message_round = known.get("attempt"), known.get("round")
    return (attempt if isinstance(attempt, int) else attempts), (message_round if isinstance(message_round, int) else 0)
