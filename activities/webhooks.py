"""The handlers of partners' webhooks: an administrator's steps on a webhook, what a delivery records,
and `announce`, which a label's handler calls so that the deliveries a change calls for are saved with it.

Saved with the change, not found later by following the log: the change and its deliveries are one
transaction, so none is lost (a crash after the save leaves queued deliveries, which the relay or the
reconciler start) and none is queued twice (a retried command applies nothing, the delivery's id
derives from the label's event and the webhook).
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from clusterlabel.activities import outbox
from clusterlabel.activities.application import CertificationApp
from clusterlabel.domain.base import ConcurrencyConflict, RecordedAggregate, StepNotAllowed
from clusterlabel.domain.command_base import Envelope
from clusterlabel.domain.label import Label
from clusterlabel.domain.webhook import WEBHOOK_DIRECTORY_ID, Webhook, WebhookDirectory, webhook_disabled
from clusterlabel.domain.webhook_commands import (
    DeleteWebhook,
    DropWebhookDelivery,
    EnableWebhook,
    RecordWebhookDelivered,
    RecordWebhookFailure,
    RegisterWebhook,
)
from clusterlabel.domain.webhook_delivery import WebhookDelivery, deliveries_for

# Outcomes of deliveries to one webhook, recorded at once, race on the webhook's failure count: the
# later one loads it again and records anew (its key makes a repeat harmless).
RECORD_TRIES = 5


def directory(app: CertificationApp) -> WebhookDirectory:
    """Every webhook not deleted (empty before the first registration opens the directory)."""
    return app.the_one(WEBHOOK_DIRECTORY_ID, WebhookDirectory)


def webhooks(app: CertificationApp) -> list[Webhook]:
    return [app.load(webhook_id, Webhook) for webhook_id in directory(app).webhook_ids]


def announce(app: CertificationApp, label: Label, env: Envelope) -> list[RecordedAggregate]:
    """The deliveries of the label's unsaved changes to every webhook that wants them, to save with it."""
    subscribed = webhooks(app)
    if not subscribed:
        return []
    return list(deliveries_for(label, subscribed, *env.when()))


# ---- an administrator's steps ---------------------------------------------------------------------


def register_webhook(app: CertificationApp, webhook_id: UUID, command: RegisterWebhook, env: Envelope) -> Webhook:
    """A new webhook (its id derives from the key, as `webhook_id` must), listed in the directory."""

    def build() -> list[RecordedAggregate]:
        webhook = Webhook(
            url=command.url, events=list(dict.fromkeys(command.events)), actor=env.actor, command_key=env.key
        )
        listed = directory(app)
        listed.add(webhook.id, env.actor, env.key)
        return [webhook, listed]

    webhook = app.created(Webhook.create_id(env.key), build)
    assert isinstance(webhook, Webhook)
    if webhook.deleted:  # a retry would otherwise answer with a new secret for a webhook told nothing
        raise StepNotAllowed(f"webhook {webhook.id} was deleted: register the endpoint again under a new key")
    return webhook


def enable_webhook(app: CertificationApp, webhook_id: UUID, command: EnableWebhook, env: Envelope) -> Webhook:
    return app.change(webhook_id, Webhook, env, lambda webhook: webhook.enable(*env.when()))


def delete_webhook(app: CertificationApp, webhook_id: UUID, command: DeleteWebhook, env: Envelope) -> Webhook:
    def act(webhook: Webhook) -> list[RecordedAggregate]:
        webhook.delete(*env.when())
        listed = directory(app)
        listed.remove(webhook.id, env.actor, env.key)
        return [listed]

    return app.change(webhook_id, Webhook, env, act)


# ---- what became of a delivery ----------------------------------------------------------------------


def record_webhook_delivered(
    app: CertificationApp, delivery_id: UUID, command: RecordWebhookDelivered, env: Envelope
) -> WebhookDelivery:
    def act(delivery: WebhookDelivery, webhook: Webhook) -> list[RecordedAggregate]:
        delivery.record_delivered(env.instant(), command.status_code, command.attempts, env.actor, env.key)
        webhook.delivery_succeeded(delivery.id, *env.when())
        return [webhook]

    return _record(app, delivery_id, env, act)


def record_webhook_failure(
    app: CertificationApp, delivery_id: UUID, command: RecordWebhookFailure, env: Envelope
) -> WebhookDelivery:
    """The delivery failed; at the policy's limit of failures in a row the webhook is disabled and the
    secretariat told, in the same save."""

    def act(delivery: WebhookDelivery, webhook: Webhook) -> list[RecordedAggregate]:
        delivery.record_failure(env.instant(), command.reason, command.attempts, env.actor, env.key)
        limit = app.policy.webhook_disable_after
        disabled = webhook.delivery_failed(delivery.id, command.reason, limit, *env.when())
        told = outbox.queue(webhook_disabled(webhook), env) if disabled else []
        return [webhook, *told]

    return _record(app, delivery_id, env, act)


def drop_webhook_delivery(
    app: CertificationApp, delivery_id: UUID, command: DropWebhookDelivery, env: Envelope
) -> WebhookDelivery:
    return app.change(
        delivery_id,
        WebhookDelivery,
        env,
        lambda delivery: delivery.drop(env.instant(), command.reason, env.actor, env.key),
    )


Outcome = Callable[[WebhookDelivery, Webhook], list[RecordedAggregate]]


def _record(app: CertificationApp, delivery_id: UUID, env: Envelope, act: Outcome) -> WebhookDelivery:
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            return app.change(
                delivery_id,
                WebhookDelivery,
                env,
                lambda delivery: act(delivery, app.load(delivery.webhook_id, Webhook)),
            )
        except ConcurrencyConflict:
            if attempt == RECORD_TRIES:
                raise
    raise AssertionError("unreachable")
