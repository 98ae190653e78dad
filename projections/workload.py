"""Expert workload: open assignments per expert, for balancing proposals.

An expert is assigned to a case while proposed for it or on its team, and the assignment
counts while the case is open (an upheld appeal reopens a refused case for a new decision).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from projections.view import Change, View


class WorkloadView(View):
    name = "workload"
    cost = 0.5
    view_tables = ("workload_assignments", "workload_cases")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {workload_assignments} (case_id TEXT NOT NULL, expert_id TEXT NOT NULL, "
        "role TEXT NOT NULL, PRIMARY KEY (case_id, expert_id))",
        "CREATE INDEX IF NOT EXISTS workload_by_expert ON {workload_assignments} (expert_id)",
        "CREATE TABLE IF NOT EXISTS {workload_cases} (case_id TEXT PRIMARY KEY, is_open INTEGER NOT NULL)",
    )
    handlers = {
        f"CertificationCase.{name}": f"_{name}"
        for name in (
            "Submitted Screened ExpertProposed ExpertAccepted ExpertDeclined ExpertResponseTimedOut "
            "ClusterObjectedToExperts DecisionRecorded AppealDecided Withdrawn"
        ).split()
    }

    def _open(self, cursor: Any, change: Change, is_open: bool) -> None:
        self.upsert(cursor, "workload_cases", ["case_id"], [{"case_id": change.key, "is_open": int(is_open)}])

    def _Submitted(self, cursor: Any, batch: Any, change: Change) -> None:
        self._open(cursor, change, True)

    def _Screened(self, cursor: Any, batch: Any, change: Change) -> None:
        if not change["accepted"]:
            self._open(cursor, change, False)

    def _DecisionRecorded(self, cursor: Any, batch: Any, change: Change) -> None:
        self._open(cursor, change, False)

    def _AppealDecided(self, cursor: Any, batch: Any, change: Change) -> None:
        if change["upheld"]:
            self._open(cursor, change, True)

    def _Withdrawn(self, cursor: Any, batch: Any, change: Change) -> None:
        self._open(cursor, change, False)

    def _ExpertProposed(self, cursor: Any, batch: Any, change: Change) -> None:
        row = {"case_id": change.key, "expert_id": change["expert_id"], "role": "proposed"}
        self.upsert(cursor, "workload_assignments", ["case_id", "expert_id"], [row])

    def _ExpertAccepted(self, cursor: Any, batch: Any, change: Change) -> None:
        row = {"case_id": change.key, "expert_id": change["expert_id"], "role": "team"}
        self.upsert(cursor, "workload_assignments", ["case_id", "expert_id"], [row])

    def _ExpertDeclined(self, cursor: Any, batch: Any, change: Change) -> None:
        cursor.execute(
            self.q("DELETE FROM {workload_assignments} WHERE case_id = ? AND expert_id = ?"),
            (change.key, change["expert_id"]),
        )

    _ExpertResponseTimedOut = _ExpertDeclined

    def _ClusterObjectedToExperts(self, cursor: Any, batch: Any, change: Change) -> None:
        cursor.execute(
            self.q("DELETE FROM {workload_assignments} WHERE case_id = ? AND role = 'team'"), (change.key,)
        )

    # ---- queries -------------------------------------------------------------------------

    def workload(self) -> dict[UUID, int]:
        """Open assignments per expert; experts without any are absent (count 0)."""
        rows = self.fetch(
            "SELECT a.expert_id, COUNT(*) AS n FROM {workload_assignments} a "
            "JOIN {workload_cases} c ON c.case_id = a.case_id WHERE c.is_open = 1 GROUP BY a.expert_id"
        )
        return {UUID(row["expert_id"]): int(row["n"]) for row in rows}
