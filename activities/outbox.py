"""The outbox: the notices a step calls for, as new messages (Notification) queued by its handler, and the
handlers that record what became of each one (sent, failed, queued again by an officer).

A delivery records under a key of its round (`notification:<id>:<round>:sent`), so a retried activity
records nothing twice and a message queued again is recorded afresh.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain import commands, notices
from clusterlabel.domain.base import RecordedAggregate
from clusterlabel.domain.commands import Envelope, command_key
from clusterlabel.domain.notification import Notification


def queue(told: list[notices.Notice], env: Envelope) -> list[RecordedAggregate]:
    """The notices as new messages of the outbox, saved with the change that calls for them (so a
    message goes out exactly when its step is recorded); each one's id derives from the command's key."""
    return [_message(notice, env) for notice in told]


def tell(app: CertificationApp, told: list[notices.Notice], env: Envelope) -> None:
    """Queue each notice on its own, for a step that changes nothing else; a retry queues nothing twice."""
    for notice in told:
        message = _message(notice, env)
        app.create(message.id, lambda message=message: [message])  # type: ignore[misc]


def _message(notice: notices.Notice, env: Envelope) -> Notification:
    key = f"{env.key}/notify/{notice.recipient}"
    fields = (notice.recipient, notice.kind, notice.subject, notice.body, notice.case_id, notice.label_id)
    return Notification(*fields, env.actor, key, data=notice.data)


def delivery_key(message: Notification, outcome: str, of_round: int = 0) -> str:
    """The key a delivery records its outcome under: one per round of the message (the current one
    unless `of_round` names the round the delivery was for)."""
    return command_key("notification", message.id, of_round or message.round, outcome)


# ---- what became of a message -------------------------------------------------------------------


def record_sent(
    app: CertificationApp, notification_id: UUID, command: commands.RecordSent, env: Envelope
) -> Notification:
    def act(message: Notification) -> None:
        sent = (command.channel, command.recipients, command.message_id, command.reply, command.attempts)
        message.record_sent(_at(env), *sent, env.actor, env.key)

    return app.change(notification_id, Notification, env, act)


def record_delivery_failure(
    app: CertificationApp, notification_id: UUID, command: commands.RecordDeliveryFailure, env: Envelope
) -> Notification:
    def act(message: Notification) -> None:
        message.record_failure(_at(env), command.reason, command.attempts, env.actor, env.key)

    return app.change(notification_id, Notification, env, act)


def retry_delivery(
    app: CertificationApp, notification_id: UUID, command: commands.RetryDelivery, env: Envelope
) -> Notification:
    return app.change(notification_id, Notification, env, lambda message: message.requeue(_at(env), env.actor, env.key))


def _at(env: Envelope) -> datetime:
    assert env.at is not None, "handle() stamps every envelope"
    return env.at
