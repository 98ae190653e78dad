"""Case status: where each certification case stands, for the secretariat's lists and dashboard.

The view follows the case's own transitions (domain/certification_case.py) event by event and
keeps the deadline the case works against, so that "overdue" is a comparison with `now`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from domain.certification_case import CaseState
from projections.store import Row, stamp, unstamp
from projections.view import Change, RowCache, View

# Which deadline a case works against in each state (as CertificationCase.current_deadline()).
_STEP_FOR_STATE = {"screening": "screening", "assigning": "response", "auditing": "audit", "deciding": "decision"}


class CaseStatus(BaseModel):
    case_id: UUID
    cluster_id: UUID
    cluster_name: str | None
    state: CaseState
    level: str
    kind: str
    catalogue_version: str
    expert_ids: list[UUID]
    proposed_expert_id: UUID | None
    deadlines: dict[str, datetime]
    current_deadline: str | None
    due_at: datetime | None
    overdue: bool
    label_id: UUID | None
    needs_attention: bool
    attention: list[str]
    submitted_at: datetime
    updated_at: datetime
    version: int


class CaseStatusView(View):
    name = "case_status"
    cost = 5.5
    view_tables = ("case_status", "case_status_clusters")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {case_status} (case_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, "
        "level TEXT, kind TEXT, state TEXT NOT NULL, catalogue_version TEXT, experts TEXT, proposed_expert_id TEXT, "
        "deadlines TEXT, deadline_step TEXT, deadline_at TEXT, label_id TEXT, attention TEXT, "
        "needs_attention INTEGER, submitted_at TEXT, updated_at TEXT, version BIGINT)",
        "CREATE INDEX IF NOT EXISTS case_status_by_state ON {case_status} (state, deadline_at)",
        "CREATE INDEX IF NOT EXISTS case_status_by_cluster ON {case_status} (cluster_id)",
        "CREATE TABLE IF NOT EXISTS {case_status_clusters} (cluster_id TEXT PRIMARY KEY, name TEXT, country TEXT)",
    )
    handlers = {
        "Cluster.Registered": "_cluster",
        "Cluster.ProfileUpdated": "_cluster",
        "CertificationCase.Submitted": "_submitted",
        **{
            f"CertificationCase.{name}": "_changed"
            for name in (
                "Screened ExpertProposed ExpertAccepted ExpertDeclined ExpertResponseTimedOut Escalated "
                "ClusterAgreedToExperts ClusterObjectedToExperts AssessmentSubmitted ReportSubmitted "
                "DecisionRecorded AppealLodged AppealDecided LabelIssued Withdrawn AuditScheduled"
            ).split()
        },
    }

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> dict[str, RowCache]:
        cases = RowCache(self, "case_status", "case_id", ("experts", "deadlines", "attention"))
        changed = [change.key for change in changes if change.aggregate_type == "CertificationCase" and change.event_type != "Submitted"]
        return {"cases": cases.prefetch(cursor, changed), "clusters": RowCache(self, "case_status_clusters", "cluster_id")}

    def end_batch(self, cursor: Any, batch: dict[str, RowCache]) -> None:
        for cache in batch.values():
            cache.flush(cursor)

    def _cluster(self, cursor: Any, batch: dict[str, RowCache], change: Change) -> None:
        profile = change["profile"]
        batch["clusters"].put({"cluster_id": change.key, "name": profile["name"], "country": profile["country"]})

    def _submitted(self, cursor: Any, batch: dict[str, RowCache], change: Change) -> None:
        row: Row = {
            "case_id": change.key,
            "cluster_id": change["cluster_id"],
            "level": change["level"],
            "kind": change["kind"],
            "state": CaseState.SCREENING.value,
            "catalogue_version": change["catalogue_version"],
            "experts": [],
            "proposed_expert_id": None,
            "deadlines": {"screening": change["screening_due"]},
            "label_id": None,
            "attention": [],
            "submitted_at": change["submitted_at"],
            "updated_at": change["submitted_at"],
        }
        batch["cases"].put(_with_deadline(row, change.version))

    def _changed(self, cursor: Any, batch: dict[str, RowCache], change: Change) -> None:
        row = batch["cases"].get(cursor, change.key)
        if row is None:
            return  # a case whose creation this view never saw (cannot happen in one log)
        _TRANSITIONS[change.event_type](row, change)
        at = change.get("at")
        if at is not None:
            row["updated_at"] = max(row["updated_at"], at)
        batch["cases"].put(_with_deadline(row, change.version))

    # ---- queries -------------------------------------------------------------------------

    _SELECT = (
        "SELECT s.*, c.name AS cluster_name FROM {case_status} s "
        "LEFT JOIN {case_status_clusters} c ON c.cluster_id = s.cluster_id "
    )

    def case(self, case_id: UUID, now: datetime) -> CaseStatus | None:
        rows = self.fetch(self._SELECT + "WHERE s.case_id = ?", (str(case_id),))
        return _status(rows[0], now) if rows else None

    def cases(
        self,
        now: datetime,
        *,
        state: CaseState | str | None = None,
        cluster_id: UUID | None = None,
        expert_id: UUID | None = None,
        overdue: bool = False,
        needs_attention: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[CaseStatus]:
        where, params = ["1 = 1"], []
        if state is not None:
            where.append("s.state = ?")
            params.append(str(CaseState(state).value))
        if cluster_id is not None:
            where.append("s.cluster_id = ?")
            params.append(str(cluster_id))
        if expert_id is not None:
            # Ids are unique text, so a match inside the JSON list is exact.
            where.append("(s.experts LIKE ? OR s.proposed_expert_id = ?)")
            params += [f'%"{expert_id}"%', str(expert_id)]
        if overdue:
            where.append("s.deadline_at IS NOT NULL AND s.deadline_at <= ?")
            params.append(stamp(now))
        if needs_attention:
            where.append("s.needs_attention = 1")
        sql = self._SELECT + "WHERE " + " AND ".join(where) + " ORDER BY s.submitted_at, s.case_id LIMIT ? OFFSET ?"
        return [_status(row, now) for row in self.fetch(sql, (*params, limit, offset))]

    def state_counts(self) -> dict[str, int]:
        counts = {state.value: 0 for state in CaseState}
        for row in self.fetch("SELECT state, COUNT(*) AS n FROM {case_status} GROUP BY state"):
            counts[row["state"]] = int(row["n"])
        return counts

    def overdue_count(self, now: datetime) -> int:
        rows = self.fetch("SELECT COUNT(*) AS n FROM {case_status} WHERE deadline_at IS NOT NULL AND deadline_at <= ?", (stamp(now),))
        return int(rows[0]["n"])


# ---- the case's transitions, on the view's row ------------------------------------------


def _enter(row: Row, state: CaseState) -> None:
    row["state"] = state.value
    row["attention"] = []


def _clear_proposal(row: Row) -> None:
    row["proposed_expert_id"] = None
    row["deadlines"].pop("response", None)


def _screened(row: Row, change: Change) -> None:
    _enter(row, CaseState.ASSIGNING if change["accepted"] else CaseState.REJECTED)


def _proposed(row: Row, change: Change) -> None:
    row["proposed_expert_id"] = change["expert_id"]
    row["deadlines"]["response"] = change["response_due"]
    row["attention"] = []


def _accepted(row: Row, change: Change) -> None:
    row["experts"] = [*row["experts"], change["expert_id"]]
    _clear_proposal(row)


def _agreed(row: Row, change: Change) -> None:
    row["deadlines"]["audit"] = change["audit_due"]
    _enter(row, CaseState.AUDITING)


def _objected(row: Row, change: Change) -> None:
    row["experts"] = []


def _reported(row: Row, change: Change) -> None:
    row["deadlines"]["decision"] = change["decision_due"]
    _enter(row, CaseState.DECIDING)


def _decided(row: Row, change: Change) -> None:
    if change["outcome"] == "award":
        _enter(row, CaseState.AWARDED)
    else:
        row["deadlines"]["appeal"] = change["appeal_due"]
        _enter(row, CaseState.REFUSED)


def _appeal_decided(row: Row, change: Change) -> None:
    if change["upheld"]:
        row["deadlines"]["decision"] = change["decision_due"]
        _enter(row, CaseState.DECIDING)


def _escalated(row: Row, change: Change) -> None:
    row["attention"] = [*row["attention"], change["reason"]]


def _label_issued(row: Row, change: Change) -> None:
    row["label_id"] = change["label_id"]


def _nothing(row: Row, change: Change) -> None:
    pass


_TRANSITIONS = {
    "Screened": _screened,
    "ExpertProposed": _proposed,
    "ExpertAccepted": _accepted,
    "ExpertDeclined": lambda row, change: _clear_proposal(row),
    "ExpertResponseTimedOut": lambda row, change: _clear_proposal(row),
    "Escalated": _escalated,
    "ClusterAgreedToExperts": _agreed,
    "ClusterObjectedToExperts": _objected,
    "AuditScheduled": _nothing,
    "AssessmentSubmitted": _nothing,
    "ReportSubmitted": _reported,
    "DecisionRecorded": _decided,
    "AppealLodged": _nothing,
    "AppealDecided": _appeal_decided,
    "LabelIssued": _label_issued,
    "Withdrawn": lambda row, change: _enter(row, CaseState.WITHDRAWN),
}


def _with_deadline(row: Row, version: int) -> Row:
    """Recompute the derived columns: the current deadline and the attention flag."""
    step = _STEP_FOR_STATE.get(row["state"])
    if step == "response" and row["proposed_expert_id"] is None:
        step = None
    row["deadline_step"] = step
    row["deadline_at"] = row["deadlines"].get(step) if step else None
    row["needs_attention"] = 1 if row["attention"] else 0
    row["version"] = version
    return row


def _status(row: Row, now: datetime) -> CaseStatus:
    due = unstamp(row["deadline_at"])
    return CaseStatus(
        case_id=row["case_id"],
        cluster_id=row["cluster_id"],
        cluster_name=row.get("cluster_name"),
        state=row["state"],
        level=row["level"],
        kind=row["kind"],
        catalogue_version=row["catalogue_version"],
        expert_ids=json.loads(row["experts"]),
        proposed_expert_id=row["proposed_expert_id"],
        deadlines={k: unstamp(v) for k, v in json.loads(row["deadlines"]).items()},
        current_deadline=row["deadline_step"],
        due_at=due,
        overdue=due is not None and now >= due,
        label_id=row["label_id"],
        needs_attention=bool(row["needs_attention"]),
        attention=json.loads(row["attention"]),
        submitted_at=unstamp(row["submitted_at"]),
        updated_at=unstamp(row["updated_at"]),
        version=int(row["version"]),
    )

