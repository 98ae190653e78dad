"""The outbox: the notices a step calls for, as new messages (Notification) queued by its handler."""

from __future__ import annotations

from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain import notices
from clusterlabel.domain.base import RecordedAggregate
from clusterlabel.domain.commands import Envelope
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
    return Notification(
        notice.recipient, notice.kind, notice.subject, notice.body, notice.case_id, notice.label_id, env.actor, key
    )
