"""The expiry calendar: labels expiring and renewal windows closing within a window.

Overdue cases belong to the calendar too; they come from the case status view (see
ReadModels.calendar()), since each view keeps only its own tables.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from domain.label import LabelState
from projections.labels import IN_FORCE, LABEL_COLUMNS, LabelRowsView
from projections.store import Row, stamp, unstamp


class CalendarEntry(BaseModel):
    label_id: UUID
    label_code: str
    cluster_id: UUID
    cluster_name: str
    level: str
    state: str
    due: datetime  # valid_until for an expiry, renewable_until for a closing window
    renewal_case_id: UUID | None


class ExpiryCalendarView(LabelRowsView):
    name = "expiry_calendar"
    cost = 1
    label_table = "expiry_labels"
    view_tables = ("expiry_labels",)
    ddl = (
        f"CREATE TABLE IF NOT EXISTS {{expiry_labels}} ({LABEL_COLUMNS})",
        "CREATE INDEX IF NOT EXISTS expiry_by_validity ON {expiry_labels} (state, valid_until)",
        "CREATE INDEX IF NOT EXISTS expiry_by_window ON {expiry_labels} (state, renewable_until)",
    )

    def expiring(self, now: datetime, within: timedelta) -> list[CalendarEntry]:
        """Labels in force whose validity ends before now + within (also those already past it)."""
        rows = self.fetch(
            "SELECT * FROM {expiry_labels} WHERE state IN (?, ?) AND valid_until < ? ORDER BY valid_until, label_code",
            (*IN_FORCE, stamp(now + within)),
        )
        return [_entry(row, "valid_until") for row in rows]

    def renewal_windows_closing(self, now: datetime, within: timedelta) -> list[CalendarEntry]:
        """Expired labels whose renewal window closes before now + within."""
        rows = self.fetch(
            "SELECT * FROM {expiry_labels} WHERE state = ? AND renewable_until < ? ORDER BY renewable_until, label_code",
            (LabelState.EXPIRED.value, stamp(now + within)),
        )
        return [_entry(row, "renewable_until") for row in rows]


def _entry(row: Row, due_column: str) -> CalendarEntry:
    return CalendarEntry(
        label_id=row["label_id"],
        label_code=row["label_code"],
        cluster_id=row["cluster_id"],
        cluster_name=row["cluster_name"],
        level=row["level"],
        state=row["state"],
        due=unstamp(row[due_column]),
        renewal_case_id=row["renewal_case_id"],
    )
