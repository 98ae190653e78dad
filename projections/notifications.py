"""The outbox as the secretariat reads it: every message, its status, how many tries, when it went out.

The status follows the domain's rule for each event (domain/notification.py, STATUS_AFTER). A message
queued again keeps the tries of its earlier rounds in `attempts`, and the reason it last failed until
it is sent.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.domain.notification import STATUS_AFTER, DeliveryStatus
from clusterlabel.projections.view import Change, RowPerAggregateView
from clusterlabel.projections.view_store import Row, unstamped

# A message's row beside its key and position, as NotificationsView stores it (RowPerAggregateView
# writes the table's statement).
MESSAGE_COLUMNS = (
    "recipient TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, "
    "queued_at TEXT NOT NULL, sent_at TEXT, channel TEXT, reason TEXT, case_id TEXT, label_id TEXT"
)


class MessageEntry(BaseModel):
    id: UUID
    recipient: str
    kind: str
    status: DeliveryStatus
    attempts: int
    queued_at: datetime
    sent_at: datetime | None
    channel: str | None
    reason: str | None  # why its last round failed
    case_id: UUID | None
    label_id: UUID | None


class NotificationsView(
    RowPerAggregateView, key="id", started_by="Queued", aggregate="Notification", follows=STATUS_AFTER
):
    name = "notifications"
    cost = 5.2
    row_columns = MESSAGE_COLUMNS
    more_ddl = (
        "CREATE INDEX IF NOT EXISTS notifications_by_status ON {notifications} (status, position)",
        "CREATE INDEX IF NOT EXISTS notifications_by_case ON {notifications} (case_id, position)",
        "CREATE INDEX IF NOT EXISTS notifications_by_label ON {notifications} (label_id, position)",
        "CREATE INDEX IF NOT EXISTS notifications_by_recipient ON {notifications} (recipient, position)",
    )

    def first_columns(self, change: Change) -> Row:
        return {
            **change.columns("recipient", "kind"),
            "status": DeliveryStatus.QUEUED.value,
            "attempts": 0,
            "queued_at": change.recorded_at,
            "sent_at": None,
            "channel": None,
            "reason": None,
            **change.columns("case_id", "label_id"),
        }

    def follow(self, row: Row, change: Change) -> None:
        _DELIVERY[change.event_type](row, change)
        row["status"] = STATUS_AFTER[change.event_type].value

    # ---- queries -------------------------------------------------------------------------

    def messages(
        self,
        status: DeliveryStatus | None = None,
        case_id: UUID | None = None,
        limit: int = 50,
        offset: int = 0,
        label_id: UUID | None = None,
    ) -> list[MessageEntry]:
        """Messages, the latest queued first, of one status, one case and one label when asked."""
        where, params = _filters(status, case_id, label_id)
        rows = self.fetch(
            f"SELECT * FROM {{notifications}}{where} ORDER BY position DESC LIMIT ? OFFSET ?", (*params, limit, offset)
        )
        return [MessageEntry.model_validate(unstamped(row, "queued_at", "sent_at")) for row in rows]

    def addressed_to(self, recipients: Collection[str]) -> list[str]:
        """The ids of every message to any of `recipients` (an inbox), the latest queued first."""
        if not recipients:
            return []
        marks = ", ".join("?" for _ in recipients)
        rows = self.fetch(
            f"SELECT id FROM {{notifications}} WHERE recipient IN ({marks}) ORDER BY position DESC", tuple(recipients)
        )
        return [row["id"] for row in rows]

    def count_to(self, recipients: Collection[str]) -> int:
        """How many messages went to any of `recipients`."""
        if not recipients:
            return 0
        marks = ", ".join("?" for _ in recipients)
        rows = self.fetch(
            f"SELECT COUNT(*) AS n FROM {{notifications}} WHERE recipient IN ({marks})", tuple(recipients)
        )
        return int(rows[0]["n"])

    def entries(self, ids: Sequence[str]) -> dict[str, MessageEntry]:
        """The messages of these ids, by id (those the view does not hold yet are left out)."""
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = self.fetch(f"SELECT * FROM {{notifications}} WHERE id IN ({marks})", tuple(ids))
        return {row["id"]: MessageEntry.model_validate(unstamped(row, "queued_at", "sent_at")) for row in rows}

    def count(self, status: DeliveryStatus) -> int:
        rows = self.fetch("SELECT COUNT(*) AS n FROM {notifications} WHERE status = ?", (status.value,))
        return int(rows[0]["n"])


def _sent(row: Row, change: Change) -> None:
    row.update(attempts=row["attempts"] + change["attempts"], sent_at=change["at"], channel=change["channel"])
    row["reason"] = None


def _filters(status: DeliveryStatus | None, case_id: UUID | None, label_id: UUID | None) -> tuple[str, tuple[str, ...]]:
    clauses = {
        "status = ?": status.value if status else None,
        "case_id = ?": str(case_id) if case_id else None,
        "label_id = ?": str(label_id) if label_id else None,
    }
    chosen = {clause: value for clause, value in clauses.items() if value is not None}
    return (" WHERE " + " AND ".join(chosen) if chosen else ""), tuple(chosen.values())


# What each event after Queued changes in the row besides its status.
_DELIVERY = {
    "Sent": _sent,
    "Delivered": lambda row, change: row.update(sent_at=change.recorded_at, channel=change["channel"]),
    "Failed": lambda row, change: row.update(attempts=row["attempts"] + change["attempts"], reason=change["reason"]),
    "Queued": lambda row, change: None,
    "Requeued": lambda row, change: None,
}
