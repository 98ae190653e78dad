"""The expiry calendar: labels expiring and renewal windows closing within a window.

Overdue cases belong to the calendar too; they come from the case status view (see
ReadModels.calendar()), since each view keeps only its own tables.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.domain.label_lifecycle import LABEL_STEPS, RENEWAL_WINDOW_RUNNING, VALIDITY_RUNNING, LabelState
from clusterlabel.projections.labels import LabelRowsView, status_at
from clusterlabel.projections.view_store import Row, stamp, unstamp


class CalendarEntry(BaseModel):
    label_id: UUID
    label_code: str
    cluster_id: UUID
    cluster_name: str
    level: str
    state: str  # the label's status as of the calendar's instant (label_status_at), not its recorded state
    due: datetime  # valid_until for an expiry, renewable_until for a closing window
    renewal_case_id: UUID | None


class ExpiryCalendarView(LabelRowsView):
    name = "expiry_calendar"
    cost = 1.4
    view_tables = ("expiry_labels",)
    more_ddl = (
        "CREATE INDEX IF NOT EXISTS expiry_by_validity ON {expiry_labels} (state, valid_until)",
        "CREATE INDEX IF NOT EXISTS expiry_by_window ON {expiry_labels} (state, renewable_until)",
    )

    def expiring(self, now: datetime, within: timedelta) -> list[CalendarEntry]:
        """Labels whose validity still runs and ends before now + within: an active one also once past it (its
        expiry not recorded yet), a suspended one only until then (no timer expires it: its restoration does,
        and a suspension past its validity is the suspensions' matter)."""
        bound = now + within
        expire = LABEL_STEPS["expire"][0]
        active = self._due_before(expire, "valid_until", now, bound)
        suspended = [
            entry for entry in self._due_before(VALIDITY_RUNNING - expire, "valid_until", now, bound) if entry.due > now
        ]
        return sorted([*active, *suspended], key=lambda entry: (entry.due, entry.label_code))

    def renewal_windows_closing(self, now: datetime, within: timedelta) -> list[CalendarEntry]:
        """Expired labels whose renewal window closes before now + within."""
        return self._due_before(RENEWAL_WINDOW_RUNNING, "renewable_until", now, now + within)

    def _due_before(
        self, states: frozenset[LabelState], due_column: str, now: datetime, bound: datetime
    ) -> list[CalendarEntry]:
        """Labels recorded in one of the domain's groups of states, due before `bound`, each with its status now."""
        marks = ", ".join("?" for _ in states)
        rows = self.fetch(
            f"SELECT * FROM {{expiry_labels}} WHERE state IN ({marks}) AND {due_column} < ? ORDER BY {due_column}, label_code",
            (*sorted(state.value for state in states), stamp(bound)),
        )
        return [_entry(row, due_column, now) for row in rows]


def _entry(row: Row, due_column: str, now: datetime) -> CalendarEntry:
    """A label's entry; its state as of now: one past its validity or its window whose timer has not run yet
    (or ran late) reads as the registry reads it."""
    return CalendarEntry.model_validate({**row, "state": status_at(row, now)[0].value, "due": unstamp(row[due_column])})
