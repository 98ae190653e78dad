"""The outbox: the notices a step calls for, as new messages (Notification) queued by its handler, and the
handlers that record what became of each one (sent, failed, queued again by an officer).

A delivery records under a key of its round (`notification:<id>:<round>:sent`), so a retried activity
records nothing twice and a message queued again is recorded afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain import notices, record_commands
from clusterlabel.domain.base import RecordedAggregate, StepNotAllowed
from clusterlabel.domain.command_base import Envelope, command_key
from clusterlabel.domain.digest import SendDigest, digest_notices
from clusterlabel.domain.notification import Delivery, Notification
from clusterlabel.domain.reminders import schedule_before, stale_reminder

R = TypeVar("R")


def queue(told: list[notices.Notice], env: Envelope) -> list[RecordedAggregate]:
    """The notices as new messages of the outbox, saved with the change that calls for them (so a
    message goes out exactly when its step is recorded); each one's id derives from the command's key."""
    return [_message(notice, env) for notice in told]


def tell(app: CertificationApp, told: list[notices.Notice], env: Envelope) -> None:
    """Queue the notices in one save, for a step that changes nothing else: all or none, so that a crash
    cannot leave some readers told and a retry (whose reminder may have gone stale by then) the rest
    untold; a retry queues nothing twice (each message's id derives from the key: the first collides)."""
    messages = [_message(notice, env) for notice in told]
    if not messages:
        return
    first = app.created(messages[0].id, lambda: list(messages))
    if first is not messages[0]:  # a retry; queued one a save by an earlier release, some may be missing yet
        for notice in told[1:]:  # made anew: the refused save took the first messages' pending events
            message = _message(notice, env)
            app.create(message.id, lambda message=message: [message])  # type: ignore[misc]


class Reminder(Protocol):
    """A command that reminds of a step due soon (RemindDeadline, RemindComplaint)."""

    @property
    def step(self) -> str: ...
    @property
    def offset(self) -> str: ...
    @property
    def due(self) -> datetime: ...


def remind(
    app: CertificationApp,
    record: R,
    reminders: Callable[[R, str, str, datetime], list[notices.Notice]],
    command: Reminder,
    env: Envelope,
) -> R:
    """Queue the reminders of a step of `record` due soon (the record itself does not change); the record.
    One gone stale while it waited (the worker was down: the deadline has passed, or a later reminder of it
    is due) is not queued: the deadline's escalation, or that later reminder, tells the people instead."""
    schedule = schedule_before(app.policy.deadline_reminders, command.due)
    if not stale_reminder(command.offset, schedule, command.due, env.instant()):
        tell(app, reminders(record, command.step, command.offset, command.due), env)
    return record


def message_id(env: Envelope, recipient: str) -> UUID:
    """The id of the message that a command of this envelope queues for `recipient`."""
    return Notification.create_id(_key(env, recipient))


def _key(env: Envelope, recipient: str) -> str:
    return f"{env.key}/notify/{recipient}"


def _message(notice: notices.Notice, env: Envelope) -> Notification:
    key = _key(env, notice.recipient)
    fields = (notice.recipient, notice.kind, notice.subject, notice.body, notice.case_id, notice.label_id)
    return Notification(*fields, env.actor, key, data=notice.data)


def delivery_key(message: Notification, outcome: str, of_round: int = 0) -> str:
    """The key a delivery records its outcome under: one per round of the message (the current one
    unless `of_round` names the round the delivery was for)."""
    return command_key("notification", message.id, of_round or message.round, outcome)


def send_digest(app: CertificationApp, notification_id: UUID, command: SendDigest, env: Envelope) -> Notification:
    """Queue the secretariat's digest of a period (the key names the period: a repeat queues nothing).
    StepNotAllowed when there is nothing to report: the caller asks only when there is."""
    told = digest_notices(command)
    if not told:
        raise StepNotAllowed("the digest has nothing to report")
    message = _message(told[0], env)
    saved = app.created(message.id, lambda: [message])
    assert isinstance(saved, Notification) and saved.id == notification_id, "the digest's id derives from its key"
    return saved


# ---- what became of a message -------------------------------------------------------------------


def record_sent(
    app: CertificationApp, notification_id: UUID, command: record_commands.RecordSent, env: Envelope
) -> Notification:
    def act(message: Notification) -> None:
        delivery = Delivery(command.channel, command.recipients, command.message_id, command.reply, command.attempts)
        message.record_sent(env.instant(), delivery, env.actor, env.key)

    return app.change(notification_id, Notification, env, act)


def record_delivery_failure(
    app: CertificationApp, notification_id: UUID, command: record_commands.RecordDeliveryFailure, env: Envelope
) -> Notification:
    def act(message: Notification) -> None:
        message.record_failure(env.instant(), command.reason, command.attempts, env.actor, env.key)

    return app.change(notification_id, Notification, env, act)


def retry_delivery(
    app: CertificationApp, notification_id: UUID, command: record_commands.RetryDelivery, env: Envelope
) -> Notification:
    return app.change(
        notification_id, Notification, env, lambda message: message.requeue(env.instant(), env.actor, env.key)
    )
