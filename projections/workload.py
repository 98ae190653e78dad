"""Expert workload: open assignments per expert, for balancing proposals.

An expert is assigned to a case while proposed for it or on its team, and the assignment
counts while the case is open (an upheld appeal reopens a refused case for a new decision).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import UUID

from clusterlabel.projections.view import Change, View, rows_where_in


class WorkloadView(View):
    name = "workload"
    cost = 1.1
    view_tables = ("workload_assignments", "workload_cases")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {workload_assignments} (case_id TEXT NOT NULL, expert_id TEXT NOT NULL, "
        "role TEXT NOT NULL, PRIMARY KEY (case_id, expert_id))",
        "CREATE INDEX IF NOT EXISTS workload_by_expert ON {workload_assignments} (expert_id)",
        "CREATE TABLE IF NOT EXISTS {workload_cases} (case_id TEXT PRIMARY KEY, is_open INTEGER NOT NULL)",
    )
    handlers: ClassVar[dict[str, str]] = {
        f"CertificationCase.{name}": f"_{name}"
        for name in [
            "Submitted",
            "Screened",
            "ExpertProposed",
            "ExpertAccepted",
            "ExpertDeclined",
            "ExpertResponseTimedOut",
            "ExpertReleased",
            "ClusterObjectedToExperts",
            "DecisionRecorded",
            "AppealDecided",
            "RejectionAppealDecided",
            "Withdrawn",
        ]
    }

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> dict[str, Any]:
        """The batch's cases with their seats, loaded in a few queries and written back at the end."""
        keys = list(dict.fromkeys(change.key for change in changes))
        seats: dict[str, dict[str, str]] = {key: {} for key in keys}
        for row in rows_where_in(
            self, cursor, "SELECT case_id, expert_id, role FROM {workload_assignments}", "case_id", keys
        ):
            seats[row["case_id"]][row["expert_id"]] = row["role"]
        return {"seats": seats, "open": {}}

    def end_batch(self, cursor: Any, batch: dict[str, Any]) -> None:
        seats: dict[str, dict[str, str]] = batch["seats"]
        self.delete_keys(cursor, "workload_assignments", "case_id", list(seats))
        rows = [
            {"case_id": case_id, "expert_id": expert, "role": role}
            for case_id, by_expert in seats.items()
            for expert, role in by_expert.items()
        ]
        self.upsert(cursor, "workload_assignments", ["case_id", "expert_id"], rows)
        opened = [{"case_id": case_id, "is_open": int(is_open)} for case_id, is_open in batch["open"].items()]
        self.upsert(cursor, "workload_cases", ["case_id"], opened)

    def _Submitted(self, cursor: Any, batch: Any, change: Change) -> None:
        batch["open"][change.key] = True

    def _Screened(self, cursor: Any, batch: Any, change: Change) -> None:
        if not change["accepted"]:
            batch["open"][change.key] = False

    def _DecisionRecorded(self, cursor: Any, batch: Any, change: Change) -> None:
        batch["open"][change.key] = False

    def _AppealDecided(self, cursor: Any, batch: Any, change: Change) -> None:
        if change["upheld"]:
            batch["open"][change.key] = True

    def _RejectionAppealDecided(self, cursor: Any, batch: Any, change: Change) -> None:
        self._AppealDecided(cursor, batch, change)

    def _Withdrawn(self, cursor: Any, batch: Any, change: Change) -> None:
        batch["open"][change.key] = False

    def _ExpertProposed(self, cursor: Any, batch: Any, change: Change) -> None:
        batch["seats"][change.key][change["expert_id"]] = "proposed"

    def _ExpertAccepted(self, cursor: Any, batch: Any, change: Change) -> None:
        batch["seats"][change.key][change["expert_id"]] = "team"

    def _ExpertDeclined(self, cursor: Any, batch: Any, change: Change) -> None:
        batch["seats"][change.key].pop(change["expert_id"], None)

    _ExpertResponseTimedOut = _ExpertDeclined
    _ExpertReleased = _ExpertDeclined

    def _ClusterObjectedToExperts(self, cursor: Any, batch: Any, change: Change) -> None:
        seats = batch["seats"][change.key]
        for expert in [expert for expert, role in seats.items() if role == "team"]:
            del seats[expert]

    # ---- queries -------------------------------------------------------------------------

    def workload(self) -> dict[UUID, int]:
        """Open assignments per expert; experts without any are absent (count 0)."""
        rows = self.fetch(
            "SELECT a.expert_id, COUNT(*) AS n FROM {workload_assignments} a "
            "JOIN {workload_cases} c ON c.case_id = a.case_id WHERE c.is_open = 1 GROUP BY a.expert_id"
        )
        return {UUID(row["expert_id"]): int(row["n"]) for row in rows}
