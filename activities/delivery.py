"""The delivery activities: send one message of the outbox, and record what became of it.

`send_message` looks up the recipient's addresses when it runs (so a changed address, or a changed
language, is used from then on), words the message for each language its readers read (one e-mail per
language), waits for this process's pace, and hands the mail to the transport; Temporal retries it with
the policy's backoff. It records nothing: `record_delivery` does, as a separate step, so that a store that
is briefly away never makes a message go out twice. A failure names the try it was and the message's
round, so the workflow records how many tries a failed message had, under the key of that round. A retry
mails only the readers the tries before it did not reach (their heartbeats say whom): those of an e-mail
that failed, and those whose servers asked to be tried again (4xx) while the others accepted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from clusterlabel.activities.certification import BoundActivities, unit_of_work
from clusterlabel.activities.content.calendar import invitation, method_of
from clusterlabel.activities.content.wording import MessageContent, render, worded_in
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.mail import (
    SMTP_TIMEOUT_SECONDS,
    Accepted,
    Address,
    Addresses,
    EveryRecipientRefused,
    Letter,
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
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.notification import Notification
from clusterlabel.domain.record_commands import RecordDeliveryFailure, RecordSent

DELIVERY_ACTOR = "system:delivery"
SENT_FIELDS = {"channel", "recipients", "message_id", "reply", "attempts"}
FAILURE_TYPE = "DeliveryFailed"  # the ApplicationError type of a failed try (Temporal retries it)
log = structlog.stdlib.get_logger(__name__)
# Kept of a try's time for one e-mail's send (connecting, STARTTLS, AUTH and the transaction are each bounded by
# the SMTP timeout; most take well under one): past the rest, a try waits for the mail pace no longer.
SEND_RESERVE_SECONDS = 2 * SMTP_TIMEOUT_SECONDS


@dataclass(frozen=True)
class Mailroom:
    """What delivery needs beyond the event store: who has which address, the way out, the sender and
    the pace of this process."""

    addresses: Addresses
    transport: Transport
    sender: str
    pace: TokenBucket
    public_url: str  # the base of every link in a message (CLUSTERLABEL_PUBLIC_URL)

    def letters(self, message: Notification, to: list[Address], at: datetime) -> list[tuple[Letter, list[Address]]]:
        """The message worded for each language its readers read, with the readers of each."""
        content = MessageContent.of(message)
        by_language = groupby(sorted(to, key=_reads_in), _reads_in)
        return [self._letter(message, content, language, list(readers), at) for language, readers in by_language]

    def _letter(
        self, message: Notification, content: MessageContent, language: str, readers: list[Address], at: datetime
    ) -> tuple[Letter, list[Address]]:
        worded = render(content, language, self.public_url)
        emails = [address.email for address in readers]
        calendar = invitation(content, self.sender, emails, at, self.public_url, worded.language)
        letter = Letter(message_id(message.id, worded.language), worded, calendar, method_of(content))
        return letter, readers


@dataclass(eq=False)
class DeliveryActivities(BoundActivities):
    mailroom: Mailroom

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
            at = self.app.clock()
            earlier, ends = _sent_in_earlier_tries(), _sends_until()
            progress = Progress({who for went in earlier.values() if isinstance(went, dict) for who in went["reached"]})
            sent = [
                self._send_once(letter, readers, progress, at, tried, earlier, ends)
                for letter, readers in self.mailroom.letters(message, to, at)
            ]
            if not any(message_id for message_id, _ in sent):  # no e-mail went out, in this try or before
                if progress.failures:  # the last try's: as the server said it
                    raise progress.failures[0]
                refusals = "; ".join(reply for _, accepted in sent for reply in accepted.refused.values())
                raise _failed_try(plain_reply(f"every recipient was refused: {refusals}", to), tried)
            if (later := _refused_for_now(sent)) and not _last_try():  # the next try sends theirs alone
                raise _failed_try(plain_reply(f"some readers' servers asked to try again: {later}", to), tried)
            return self._sent(message, to, sent, attempt)

    def _send_once(
        self,
        letter: Letter,
        readers: list[Address],
        progress: Progress,
        at: datetime,
        tried: dict[str, int],
        earlier: dict[str, Any],
        ends: float | None,
    ) -> tuple[str, Accepted]:
        """The e-mail of one language to those of its readers nobody reached yet (`progress`: in any
        language, so a reader who changed language meanwhile is not mailed twice) nor refused for good;
        under its one Message-ID however many tries it takes. On the last try, a failure leaves the readers
        it was for refused with its reason (the message is sent, to those who have it; failed, if that is
        nobody). The Message-ID answered is "" unless it went out, in this try or before; what went out, and
        to whom, is the activity's heartbeat, which the next try reads."""
        before = _went_before(earlier.get(letter.message_id), readers)
        reached = progress.reached | set(before["reached"])
        pending = [r for r in readers if r.who not in reached and not _for_good(before["refused"].get(r.who, ""))]
        refused = {
            r.email: before["refused"][r.who] for r in readers if r.who in before["refused"] and r not in pending
        }
        went_out = letter.message_id if before["reached"] else ""
        if not pending:
            return went_out, Accepted(before["reply"], refused)
        try:
            message_id, now = self._send(letter, pending, at, tried, ends)
        except ApplicationError as error:
            if not _last_try():
                raise
            progress.failures.append(error)
            message_id, now = "", Accepted("", {reader.email: str(error.message) for reader in pending})
        replies = (before["reply"], now.reply)
        accepted = Accepted("\n".join(reply for reply in replies if reply), refused | now.refused)
        if message_id:
            went = _went(accepted, readers)
            progress.reached.update(went["reached"])
            if activity.in_activity():
                earlier[message_id] = went
                activity.heartbeat(earlier)
        return message_id or went_out, accepted

    def _send(
        self, letter: Letter, readers: list[Address], at: datetime, tried: dict[str, int], ends: float | None
    ) -> tuple[str, Accepted]:
        """One e-mail of the message, to the readers of one language; a failed try raises. One whose every
        reader the server refused is no e-mail ("" for its Message-ID), not a failed try: the readers of
        another language still get theirs, once, and the refusals are told as any other."""
        waited = self.mailroom.pace.take(within=None if ends is None else ends - time.monotonic())
        if waited is None:  # the try would be timed out while it waits or sends, and retried while this thread sends
            raise _failed_try("no send allowed by this process's mail pace in this try; tried again", tried)
        mail = compose(letter, readers, self.mailroom.sender, at)
        try:
            accepted = self.mailroom.transport.send(mail, self.mailroom.sender, [address.email for address in readers])
        except EveryRecipientRefused as error:
            return "", Accepted("", error.refused)
        except MailError as error:
            raise _failed_try(plain_reply(str(error), readers), tried) from error
        channel = self.mailroom.transport.channel
        log.info("message sent", channel=channel, attempt=tried["attempt"], waited=round(waited, 3))
        return letter.message_id, accepted

    def _sent(
        self, message: Notification, to: list[Address], sent: list[tuple[str, Accepted]], attempt: int
    ) -> DeliveryOutcome:
        refused = {email: reply for _, accepted in sent for email, reply in accepted.refused.items()}
        reached = [address for address in to if address.email not in refused]
        refusals = [f"refused {address.who}: {refused[address.email]}" for address in to if address not in reached]
        return DeliveryOutcome(
            notification_id=message.id,
            status="sent",
            round=message.round,
            attempts=attempt,
            channel=self.mailroom.transport.channel,
            recipients=[address.who for address in reached],
            message_id=" ".join(message_id for message_id, _ in sent if message_id),  # one per language sent
            reply=plain_reply("\n".join([*(accepted.reply for _, accepted in sent if accepted.reply), *refusals]), to),
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


@dataclass
class Progress:
    """How far one try of a send has come: whom the message reached, in this try or before (by who the log
    names them), and the last try's failures, set aside until it is known whether it reached anyone."""

    reached: set[str]
    failures: list[ApplicationError] = field(default_factory=list)


def _reads_in(address: Address) -> str:
    """The language the reader reads messages in (readers of two languages that read alike get one e-mail)."""
    return worded_in(address.language)


def _for_now(refusal: str) -> bool:
    """Whether a server's refusal of a reader is for now (4xx: greylisting, a full mailbox), not for good."""
    return refusal.startswith("4")


def _for_good(refusal: str) -> bool:
    return refusal.startswith("5")


def _refused_for_now(sent: list[tuple[str, Accepted]]) -> str:
    """The refusals for now of the readers of the e-mails that went out, as one text ("" for none)."""
    return "; ".join(reply for _, accepted in sent for reply in accepted.refused.values() if _for_now(reply))


def _went_before(told: Any, readers: list[Address]) -> dict[str, Any]:
    """What an earlier try's heartbeat says the e-mail came to (nothing, if it did not go out). A try
    before readers were kept told `[reply, refused]` by address: every other reader of it was reached."""
    if isinstance(told, list):
        reply, refused = told
        return {"reply": reply, **_by_who(Accepted(reply, refused), readers)}
    return told if isinstance(told, dict) else {"reply": "", "reached": [], "refused": {}}


def _went(accepted: Accepted, readers: list[Address]) -> dict[str, Any]:
    """What an e-mail came to, as the heartbeat keeps it: its readers by who the log names them (account:<id>),
    never by their addresses."""
    return {"reply": plain_reply(accepted.reply, readers), **_by_who(accepted, readers)}


def _by_who(accepted: Accepted, readers: list[Address]) -> dict[str, Any]:
    told = accepted.refused
    refused = {reader.who: plain_reply(told[reader.email], readers) for reader in readers if reader.email in told}
    return {"reached": [reader.who for reader in readers if reader.who not in refused], "refused": refused}


def _last_try() -> bool:
    """Whether Temporal tries this send no more after this try (outside an activity: there is no other)."""
    if not activity.in_activity():
        return True
    info = activity.info()
    most = info.retry_policy.maximum_attempts if info.retry_policy is not None else 0
    return 0 < most <= info.attempt


def _sent_in_earlier_tries() -> dict[str, Any]:
    """The e-mails an earlier try of this activity sent before it failed (its last heartbeat), by Message-ID."""
    if not activity.in_activity() or not activity.info().heartbeat_details:
        return {}
    earlier = activity.info().heartbeat_details[0]
    return dict(earlier) if isinstance(earlier, dict) else {}


def _sends_until() -> float | None:
    """Until when (time.monotonic) this try may still begin an e-mail: before Temporal times it out, less
    SEND_RESERVE for the send itself. A try timed out is tried again while its thread goes on: were that thread
    to send after waiting for the pace, the e-mail would go out twice. Measured on this process's clock from
    the try's start here (the server's clock may differ). None outside an activity, or with no time limit."""
    info = activity.info() if activity.in_activity() else None
    if info is None or info.start_to_close_timeout is None:
        return None
    return time.monotonic() + info.start_to_close_timeout.total_seconds() - SEND_RESERVE_SECONDS


def _failed_try(reason: str, tried: dict[str, int]) -> ApplicationError:
    return ApplicationError(reason, tried, type=FAILURE_TYPE)


def _skipped(message: Notification) -> DeliveryOutcome:
    return DeliveryOutcome(notification_id=message.id, status="skipped", attempts=message.attempts)


def failed_try(details: Any, attempts: int) -> tuple[int, int]:
    """The (attempt, round) a failure's details name (see _failed_try); else `attempts` and the current round."""
    known = details if isinstance(details, dict) else {}
    attempt, message_round = known.get("attempt"), known.get("round")
    return (attempt if isinstance(attempt, int) else attempts), (message_round if isinstance(message_round, int) else 0)
