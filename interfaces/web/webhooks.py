"""Partners' webhooks (administrators only): register an endpoint for kinds of label change and get
its signing secret once, list them, read a webhook's deliveries, enable one again after it was
disabled for failing, and delete one.

The secret is kept beside the event store (webhook_secrets.py); the log records the webhook's URL and
kinds only. Registering again under the same Idempotency-Key answers the same webhook with a new
secret (the first stops signing), as a token is shown once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.handlers import handle
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import ConcurrencyConflict
from clusterlabel.domain.command_base import Envelope, command_key, fresh_occurrence
from clusterlabel.domain.webhook import Webhook
from clusterlabel.domain.webhook_commands import DeleteWebhook, EnableWebhook, RegisterWebhook
from clusterlabel.interfaces.web.auth import Principal, on_the_loop, requires
from clusterlabel.interfaces.web.common import ERRORS, Key, creation_key
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.schemas import Out
from clusterlabel.interfaces.web.services import Services, Svc
from clusterlabel.projections.webhooks import WebhookDeliveryEntry, WebhookEntry, WebhookStatus

router = APIRouter(tags=["webhooks"], responses=ERRORS)
_only_admins = requires(Role.ADMIN, "only an administrator may manage webhooks")
Admin = Annotated[Principal, Depends(on_the_loop(_only_admins))]
MAX_PAGE = 500


class WebhookIn(RegisterWebhook):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WebhookCreated(Out):
    webhook_id: UUID
    secret: str = Field(description="whsec_…: signs every delivery (Standard Webhooks); shown this once")


class WebhookOut(Out):
    webhook_id: UUID
    url: str
    events: list[str]
    status: WebhookStatus
    failures_in_a_row: int = Field(description="failed deliveries since the last one that went through")
    disabled_because: str | None = None
    registered_at: datetime | None = None


# A delivery as the view keeps it, its fields in the view's order, with what they mean (a comment, not a
# docstring: that would become the schema's description). `status` stays what the contract has always
# said, a plain string, wider than the view's enum (hence the ignore).
class WebhookDeliveryOut(WebhookDeliveryEntry, Out):
    kind: str = Field(description="label.issued, label.suspended, …")
    status: str = Field(  # type: ignore[assignment]
        description="queued, delivered, failed or dropped (the webhook stopped listening)"
    )
    status_code: int | None = Field(description="the endpoint's answer to the try that went through")
    reason: str | None = Field(description="why the last try failed, or why it was dropped")


@router.post("/webhooks", status_code=201, summary="Register a partner's webhook")
async def register(body: WebhookIn, svc: Svc, who: Admin, key: Key = None) -> WebhookCreated:
    secrets = svc.secrets_of_webhooks()  # 503 before anything is recorded where no secret can be kept
    envelope = Envelope(actor=who.actor, key=creation_key("webhook", key), at=svc.now())
    webhook = await run_in_threadpool(handle, svc.app, Webhook.create_id(envelope.key), body, envelope)
    svc.wrote()
    secret = await run_in_threadpool(secrets.issue, webhook.id)
    return WebhookCreated(webhook_id=webhook.id, secret=secret)


@router.get("/webhooks", summary="Every webhook not deleted")
def webhooks(svc: Svc, who: Admin) -> list[WebhookOut]:
    svc.fresh()
    return [_entry_out(entry) for entry in svc.models.webhooks.webhooks()]


@router.get("/webhooks/{webhook_id}/deliveries", summary="A webhook's deliveries, latest first")
def deliveries(
    webhook_id: UUID,
    svc: Svc,
    who: Admin,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[WebhookDeliveryOut]:
    svc.fresh()
    if svc.models.webhooks.webhook(webhook_id) is None:
        raise ApiError(404, f"no webhook with id {webhook_id}")
    entries = svc.models.webhooks.deliveries(webhook_id, limit=limit, offset=offset)
    return [_delivery_out(entry) for entry in entries]


@router.post(
    "/webhooks/{webhook_id}/enable",
    summary="Deliver again to a webhook disabled after failing (409 unless it is disabled)",
)
async def enable(webhook_id: UUID, svc: Svc, who: Admin, key: Key = None) -> WebhookOut:
    envelope = _envelope(who, webhook_id, "enable", key, svc)
    webhook = await run_in_threadpool(handle, svc.app, webhook_id, EnableWebhook(), envelope)
    svc.wrote()
    assert isinstance(webhook, Webhook)
    return _webhook_out(webhook)


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Delete a webhook: it is told nothing more")
async def delete(webhook_id: UUID, svc: Svc, who: Admin, key: Key = None) -> None:
    secrets = svc.secrets_of_webhooks()
    envelope = _envelope(who, webhook_id, "delete", key, svc)
    await run_in_threadpool(_deleted, svc, webhook_id, envelope)
    svc.wrote()
    await run_in_threadpool(secrets.forget, webhook_id)


def _deleted(svc: Services, webhook_id: UUID, envelope: Envelope) -> None:
    """Delete the webhook, even while its deliveries are recording their outcomes on it: a failing
    endpoint is the one an administrator deletes, and a race with its deliveries is no reason to refuse."""
    for attempt in range(DELETE_ATTEMPTS):
        try:
            handle(svc.app, webhook_id, DeleteWebhook(), envelope)
            return
        except ConcurrencyConflict:
            if attempt == DELETE_ATTEMPTS - 1:
                raise


DELETE_ATTEMPTS = 5


def _envelope(who: Principal, webhook_id: UUID, step: str, key: str | None, svc: Services) -> Envelope:
    return Envelope(actor=who.actor, key=command_key("webhook", webhook_id, step, fresh_occurrence(key)), at=svc.now())


def _webhook_out(webhook: Webhook) -> WebhookOut:
    status: WebhookStatus = "deleted" if webhook.deleted else ("enabled" if webhook.enabled else "disabled")
    return WebhookOut(
        webhook_id=webhook.id,
        url=webhook.url,
        events=webhook.events,
        status=status,
        failures_in_a_row=webhook.failures_in_a_row,
        disabled_because=webhook.disabled_because,
    )


def _entry_out(entry: WebhookEntry) -> WebhookOut:
    return WebhookOut(webhook_id=entry.id, **entry.model_dump(exclude={"id"}))


def _delivery_out(entry: WebhookDeliveryEntry) -> WebhookDeliveryOut:
    return WebhookDeliveryOut.model_validate(entry.model_dump())
