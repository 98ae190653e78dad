"""One label change told to one webhook: queued in the same save as the change, then delivered, failed
(every try of its round failed) or dropped (the webhook was disabled or deleted before its turn).

Its id derives from the label's event (the label and the event's version) and the webhook, so a retried
command queues nothing twice and every try of it carries the same `webhook-id`: receivers dedupe on it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from clusterlabel.domain.base import RecordedAggregate, derived_id
from clusterlabel.domain.delivery_steps import DeliverySteps
from clusterlabel.domain.label_lifecycle import (
    BACK_IN_FORCE,
    LabelState,
    RenewalWindow,
    label_state_after,
    label_status_at,
)
from clusterlabel.domain.webhook import KIND_OF_LABEL_EVENT, Webhook


class WebhookDeliveryStatus(StrEnum):
    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"
    DROPPED = "dropped"


# The status each event (by class name) leaves a delivery in; the aggregate and the view follow it.
DELIVERY_STATUS_AFTER: dict[str, WebhookDeliveryStatus] = {
    "Queued": WebhookDeliveryStatus.QUEUED,
    "Delivered": WebhookDeliveryStatus.DELIVERED,
    "Failed": WebhookDeliveryStatus.FAILED,
    "Dropped": WebhookDeliveryStatus.DROPPED,
}


def webhook_delivery_id(label_id: UUID, label_version: int, webhook_id: UUID) -> UUID:
    return derived_id("webhook-delivery", label_id, label_version, webhook_id)


def message_id(delivery_id: UUID) -> str:
    """The `webhook-id` header: the same on every try of the delivery."""
    return f"msg_{delivery_id.hex}"


class WebhookDelivery(DeliverySteps, RecordedAggregate):
    """What one webhook is told of one label change, and what became of it."""

    noun = "webhook delivery"
    status_after = DELIVERY_STATUS_AFTER

    # eventsourcing derives a new aggregate's id from the __init__ fields create_id names: here the
    # label's event and the webhook, not a command's key (hence the other signature).
    @staticmethod
    def create_id(label_id: UUID, label_version: int, webhook_id: UUID) -> UUID:  # type: ignore[override]
        return webhook_delivery_id(label_id, label_version, webhook_id)

    @event("Queued")
    def __init__(
        self,
        webhook_id: UUID,
        kind: str,
        label_id: UUID,
        label_version: int,
        label_code: str,
        cluster_id: UUID,
        label_status: str,
        occurred_at: datetime,
        actor: str,
        command_key: str,
    ) -> None:
        self.webhook_id = webhook_id
        self.kind = kind
        self.label_id = label_id
        self.label_version = label_version
        self.label_code = label_code
        self.cluster_id = cluster_id
        self.label_status = label_status
        self.occurred_at = occurred_at
        self.status = WebhookDeliveryStatus.QUEUED
        self.attempts = 0

    def payload(self) -> dict[str, Any]:
        """The JSON body partners receive (the contract's `{type, timestamp, data}`; `data.label_version`
        added since, which receivers that do not know it ignore)."""
        return {
            "type": self.kind,
            "timestamp": self.occurred_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),  # sorts as text
            "data": {
                "label_id": str(self.label_id),
                "label_code": self.label_code,
                "cluster_id": str(self.cluster_id),
                "status": self.label_status,
                # Orders two changes of one label at one instant (one save may hold two: see deliveries_for).
                "label_version": self.label_version,
            },
        }

    def record_delivered(self, at: datetime, status_code: int, attempts: int, actor: str, command_key: str) -> None:
        self._check_waiting("be delivered")
        self._delivered(at=at, status_code=status_code, attempts=attempts, actor=actor, command_key=command_key)

    @event("Delivered")
    def _delivered(self, at: datetime, status_code: int, attempts: int, actor: str, command_key: str) -> None:
        self._after("Delivered", attempts)

    @event("Failed")
    def _failed(self, at: datetime, reason: str, attempts: int, actor: str, command_key: str) -> None:
        self._after("Failed", attempts)

    def drop(self, at: datetime, reason: str, actor: str, command_key: str) -> None:
        self._check_waiting("be dropped")
        self._dropped(at=at, reason=reason, actor=actor, command_key=command_key)

    @event("Dropped")
    def _dropped(self, at: datetime, reason: str, actor: str, command_key: str) -> None:
        self._after("Dropped")


def _kind_of(change: Any, valid_until: datetime) -> str | None:
    """The kind of change a partner is told of: a label put back in force past its validity (a suspension
    restored, an appeal upheld) is expired, and partners learn that, as its status says."""
    name = type(change).__name__
    if name in BACK_IN_FORCE and label_state_after(name, change.at, valid_until) is LabelState.EXPIRED:
        return "label.expired"
    return KIND_OF_LABEL_EVENT.get(name)


def _status_after(label: Any, change: Any, moment: datetime) -> LabelState:
    """The label's status right after `change`, as verification answers it then: a label issued (imported)
    or left in force past its validity reads as expired, its expiry timer fired or not."""
    state = label_state_after(type(change).__name__, moment, label.valid_until) or label.state
    return label_status_at(state, moment, label.valid_until, moment, RenewalWindow.of(label))[0]


def deliveries_for(
    label: Any, webhooks: list[Webhook], at: datetime, actor: str, command_key: str
) -> list[WebhookDelivery]:
    """A delivery to every webhook that wants one of the label's changes not saved yet (its pending
    events), one per change and webhook, each with the label's status right after that change (why: one save
    may hold two, a withdrawal reversed and superseded at once), in the order of the label's versions."""
    deliveries = []
    for change in label.pending_events:
        kind = _kind_of(change, label.valid_until)
        if kind is None:
            continue
        status = _status_after(label, change, getattr(change, "at", at))
        told: dict[str, Any] = {
            "kind": kind,
            "label_id": label.id,
            "label_version": change.originator_version,
            "label_code": label.label_code,
            "cluster_id": label.cluster_id,
            "label_status": status.value,
            "occurred_at": at,
            "actor": actor,
        }
        for webhook in (webhook for webhook in webhooks if webhook.wants(kind)):
            key = f"{command_key}/webhook/{webhook.id}"
            deliveries.append(WebhookDelivery(webhook_id=webhook.id, command_key=key, **told))
    return deliveries
