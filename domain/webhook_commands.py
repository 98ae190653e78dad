"""The commands of partners' webhooks: an administrator registers, enables again and deletes one; a
delivery records what became of it (activities/webhook_delivery.py). Listed in COMMANDS
(domain/commands.py) with every other command, and handled from the same table (HANDLERS)."""

from __future__ import annotations

from pydantic import Field

from clusterlabel.domain.command_base import Command, ShortProse
from clusterlabel.domain.webhook import EVENT_KINDS, EndpointUrl, EventKind


class WebhookCommand(Command, subject="webhook"):
    pass


class WebhookDeliveryCommand(Command, subject="webhook_delivery"):
    pass


class RegisterWebhook(WebhookCommand):
    """A partner's endpoint and the label changes it is told of (each kind once)."""

    url: EndpointUrl = Field(description="https://…; plain http:// only to a loopback address")
    events: list[EventKind] = Field(min_length=1, max_length=len(EVENT_KINDS))


class EnableWebhook(WebhookCommand):
    """Deliver again to a webhook that was disabled after failing."""


class DeleteWebhook(WebhookCommand):
    """Tell the webhook nothing more; its deliveries stay in the log."""


class RecordWebhookDelivered(WebhookDeliveryCommand):
    """The endpoint answered 2xx."""

    status_code: int = Field(ge=200, le=299)
    attempts: int = Field(ge=1)


class RecordWebhookFailure(WebhookDeliveryCommand):
    """Every try failed: why the last one did."""

    reason: ShortProse
    attempts: int = Field(ge=1)


class DropWebhookDelivery(WebhookDeliveryCommand):
    """The webhook was disabled or deleted before the delivery's turn: nothing is sent."""

    reason: ShortProse


# Listed in domain/commands.COMMANDS, in this order.
COMMANDS: tuple[type[Command], ...] = (
    RegisterWebhook,
    EnableWebhook,
    DeleteWebhook,
    RecordWebhookDelivered,
    RecordWebhookFailure,
    DropWebhookDelivery,
)
