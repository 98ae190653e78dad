"""The complaints as the secretariat lists them: each one's state, its current deadline and outcome.

The state follows the domain's rule for each event (domain/complaint.py, STATE_AFTER), and the deadline
of the current step its table of deadlines (DEADLINE_SET_BY, DEADLINE_BY_STATE): the view restates
neither. Whether a complaint is overdue depends on the hour it is asked at, so the queries decide it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.domain.complaint import DEADLINE_BY_STATE, DEADLINE_SET_BY, STATE_AFTER, ComplaintState
from clusterlabel.projections.view import Change, RowPerAggregateView
from clusterlabel.projections.view_store import Row, stamp, unstamped

EVENTS = (*STATE_AFTER, "Escalated")


# A complaint's row beside its key and position, as ComplaintsView stores it (RowPerAggregateView
# writes the table's statement). The two deadlines are kept: `due` follows the current step's.
COMPLAINT_COLUMNS = (
    "about TEXT NOT NULL, cluster_id TEXT NOT NULL, label_id TEXT, state TEXT NOT NULL, lodged_at TEXT NOT NULL, "
    "acknowledgement TEXT, investigation TEXT, due TEXT, outcome TEXT, escalations INTEGER NOT NULL"
)


class ListedComplaint(BaseModel):
    """What a listing shows first of a complaint: the view's entry and the API's answer alike."""

    complaint_id: UUID
    about: str
    cluster_id: UUID
    label_id: UUID | None
    state: ComplaintState
    lodged_at: datetime


class ComplaintEntry(ListedComplaint):
    due: datetime | None  # the deadline of its current step; None once closed
    outcome: str | None
    escalations: int


class ComplaintsView(
    RowPerAggregateView, key="complaint_id", started_by="Lodged", aggregate="Complaint", follows=EVENTS
):
    name = "complaints"
    cost = 0.4
    row_columns = COMPLAINT_COLUMNS
    more_ddl = ("CREATE INDEX IF NOT EXISTS complaints_by_state ON {complaints} (state, position)",)

    def first_columns(self, change: Change) -> Row:
        return {
            **change.columns("about", "cluster_id", "label_id"),
            "state": ComplaintState.RECEIVED.value,
            "lodged_at": change["at"],
            "acknowledgement": None,
            "investigation": None,
            "due": None,
            "outcome": None,
            "escalations": 0,
        }

    def follow(self, row: Row, change: Change) -> None:
        if change.event_type in DEADLINE_SET_BY:
            field, step = DEADLINE_SET_BY[change.event_type]
            row[step] = change[field]
        if change.event_type in STATE_AFTER:
            row["state"] = STATE_AFTER[change.event_type].value
        step_due = DEADLINE_BY_STATE.get(ComplaintState(row["state"]))
        row["due"] = row[step_due] if step_due else None
        row["outcome"] = change.get("outcome") if change.event_type == "Closed" else row["outcome"]
        row["escalations"] += 1 if change.event_type == "Escalated" else 0

    # ---- queries -------------------------------------------------------------------------

    def complaints(
        self, state: ComplaintState | None = None, limit: int = 100, offset: int = 0
    ) -> list[ComplaintEntry]:
        """Complaints, the latest lodged first, of one state when asked."""
        where, params = (" WHERE state = ?", (state.value,)) if state else ("", ())
        rows = self.fetch(
            f"SELECT * FROM {{complaints}}{where} ORDER BY position DESC LIMIT ? OFFSET ?", (*params, limit, offset)
        )
        return [ComplaintEntry.model_validate(unstamped(row, "lodged_at", "due")) for row in rows]

    def counts(self, now: datetime) -> dict[str, Any]:
        """Complaints per state, and how many are past the deadline of their current step at `now`."""
        states = {state.value: 0 for state in ComplaintState}
        for row in self.fetch("SELECT state, COUNT(*) AS n FROM {complaints} GROUP BY state", ()):
            states[row["state"]] = int(row["n"])
        overdue = self.fetch("SELECT COUNT(*) AS n FROM {complaints} WHERE due IS NOT NULL AND due <= ?", (stamp(now),))
        return {"complaints": states, "overdue_complaints": int(overdue[0]["n"])}
