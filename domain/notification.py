"""The outbox: every message the engine sends (reminders, escalations, offers) as a fact."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain.base import RecordedAggregate


class Notification(RecordedAggregate):
    """One message to one recipient; its id comes from its key, so a retry sends nothing twice."""

    id_kind = "notification"

    @event("Queued")
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
    ) -> None:
        self.command_keys = set()
        self.recipient = recipient
        self.kind = kind
        self.subject = subject
        self.body = body
        self.case_id = case_id
        self.label_id = label_id
        self.delivered = False

    def mark_delivered(self, channel: str, actor: str, command_key: str) -> None:
        if not self.delivered:
            self._delivered(channel=channel, actor=actor, command_key=command_key)

    @event("Delivered")
    def _delivered(self, channel: str, actor: str, command_key: str) -> None:
        self.delivered = True
