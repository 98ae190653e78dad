"""Partners' webhooks as an administrator reads them: each one's endpoint, kinds, whether it is enabled
(and why not), and every delivery with its status, tries and the last reason it failed.

The delivery's status follows the domain's rule for each event (domain/webhook_delivery.py,
DELIVERY_STATUS_AFTER). Never the secret: it is not in the log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.domain.webhook_delivery import DELIVERY_STATUS_AFTER, WebhookDeliveryStatus
from clusterlabel.projections.view import Change, RowCache, View
from clusterlabel.projections.view_store import Row, unstamped

WebhookStatus = Literal["enabled", "disabled", "deleted"]


class WebhookEntry(BaseModel):
    id: UUID
    url: str
    events: list[str]
    status: WebhookStatus
    failures_in_a_row: int
    disabled_because: str | None
    registered_at: datetime


class WebhookDeliveryEntry(BaseModel):
    id: UUID
    webhook_id: UUID
    kind: str
    label_id: UUID
    label_code: str
    status: WebhookDeliveryStatus
    attempts: int
    queued_at: datetime
    finished_at: datetime | None
    status_code: int | None
    reason: str | None


class Batch:
    def __init__(self, webhooks: RowCache, deliveries: RowCache) -> None:
        self.webhooks, self.deliveries = webhooks, deliveries


class WebhooksView(View):
    name = "webhooks"
    cost = 0.3
    view_tables = ("webhooks", "webhook_deliveries")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {webhooks} (id TEXT PRIMARY KEY, position BIGINT NOT NULL, url TEXT NOT NULL, "
        "events TEXT NOT NULL, status TEXT NOT NULL, failures_in_a_row INTEGER NOT NULL, disabled_because TEXT, "
        "registered_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {webhook_deliveries} (id TEXT PRIMARY KEY, position BIGINT NOT NULL, "
        "webhook_id TEXT NOT NULL, kind TEXT NOT NULL, label_id TEXT NOT NULL, label_code TEXT NOT NULL, "
        "status TEXT NOT NULL, attempts INTEGER NOT NULL, queued_at TEXT NOT NULL, finished_at TEXT, "
        "status_code INTEGER, reason TEXT)",
        "CREATE INDEX IF NOT EXISTS webhook_deliveries_by_webhook ON {webhook_deliveries} (webhook_id, position)",
    )
    handlers: ClassVar[dict[str, str]] = {
        **{f"WebhookDelivery.{name}": "_delivery" for name in DELIVERY_STATUS_AFTER},
        **{
            f"Webhook.{name}": "_webhook"
            for name in ("Registered", "DeliveryFailed", "DeliverySucceeded", "Disabled", "Enabled", "Deleted")
        },
    }

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> Batch:
        return Batch(
            RowCache(self, "webhooks", "id", json_columns=("events",)),
            RowCache(self, "webhook_deliveries", "id"),
        )

    def end_batch(self, cursor: Any, batch: Batch) -> None:
        batch.webhooks.flush(cursor)
        batch.deliveries.flush(cursor)

    def _webhook(self, cursor: Any, batch: Batch, change: Change) -> None:
        row = batch.webhooks.row_for(cursor, change, "Registered", _registered)
        if row is not None:
            _WEBHOOK_CHANGES[change.event_type](row, change)
            batch.webhooks.put(row)

    def _delivery(self, cursor: Any, batch: Batch, change: Change) -> None:
        row = batch.deliveries.row_for(cursor, change, "Queued", _queued)
        if row is not None:
            if change.event_type != "Queued":
                _tried(row, change)
            batch.deliveries.put(row)

    # ---- queries -------------------------------------------------------------------------

    def webhooks(self) -> list[WebhookEntry]:
        """Every webhook not deleted, the first registered first."""
        rows = self.fetch("SELECT * FROM {webhooks} WHERE status <> 'deleted' ORDER BY position")
        return [_webhook_entry(row) for row in rows]

    def webhook(self, webhook_id: UUID) -> WebhookEntry | None:
        rows = self.fetch("SELECT * FROM {webhooks} WHERE id = ?", (str(webhook_id),))
        return _webhook_entry(rows[0]) if rows else None

    def count_deliveries(self, status: WebhookDeliveryStatus) -> int:
        rows = self.fetch("SELECT COUNT(*) AS n FROM {webhook_deliveries} WHERE status = ?", (status.value,))
        return int(rows[0]["n"])

    def deliveries(self, webhook_id: UUID, limit: int = 50, offset: int = 0) -> list[WebhookDeliveryEntry]:
        """The webhook's deliveries, the latest queued first."""
        rows = self.fetch(
            "SELECT * FROM {webhook_deliveries} WHERE webhook_id = ? ORDER BY position DESC LIMIT ? OFFSET ?",
            (str(webhook_id), limit, offset),
        )
        return [WebhookDeliveryEntry.model_validate(unstamped(row, "queued_at", "finished_at")) for row in rows]


def _registered(change: Change) -> Row:
    return {
        "id": change.key,
        "position": change.id,
        "url": change["url"],
        "events": list(change["events"]),
        "status": "enabled",
        "failures_in_a_row": 0,
        "disabled_because": None,
        "registered_at": change.recorded_at,
    }


def _queued(change: Change) -> Row:
    return {
        "id": change.key,
        "position": change.id,
        "webhook_id": change["webhook_id"],
        "kind": change["kind"],
        "label_id": change["label_id"],
        "label_code": change["label_code"],
        "status": WebhookDeliveryStatus.QUEUED.value,
        "attempts": 0,
        "queued_at": change.recorded_at,
        "finished_at": None,
        "status_code": None,
        "reason": None,
    }


def _webhook_entry(row: Row) -> WebhookEntry:
    fields = unstamped(row, "registered_at")
    fields["events"] = json.loads(fields["events"]) if isinstance(fields["events"], str) else fields["events"]
    return WebhookEntry.model_validate(fields)


def _tried(row: Row, change: Change) -> None:
    """A delivery's try recorded: its status, when it ended, the tries it took, and why it failed."""
    row.update(status=DELIVERY_STATUS_AFTER[change.event_type].value, finished_at=change["at"])
    row.update(attempts=row["attempts"] + change.get("attempts", 0), reason=change.get("reason"))
    row["status_code"] = change.get("status_code")


# What each event changes in a webhook's row (Registered started it).
_WEBHOOK_CHANGES = {
    "Registered": lambda row, change: None,
    "DeliveryFailed": lambda row, change: row.update(failures_in_a_row=row["failures_in_a_row"] + 1),
    "DeliverySucceeded": lambda row, change: row.update(failures_in_a_row=0),
    "Disabled": lambda row, change: row.update(status="disabled", disabled_because=change["reason"]),
    "Enabled": lambda row, change: row.update(status="enabled", failures_in_a_row=0, disabled_because=None),
    "Deleted": lambda row, change: row.update(status="deleted"),
}
