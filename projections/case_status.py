"""Case status: where each certification case stands, for the secretariat's lists and dashboard.

Event by event the row takes the state the domain says the event leads to (case_state_after)
and the deadline the domain says that state works against (deadline_step), so that "overdue"
is a comparison with `now` and the view never restates the case's state machine. The row
keeps the case's data as the events carry it, read from their stored JSON (no aggregates).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.domain.case_lifecycle import CaseState, case_state_after, deadline_step
from clusterlabel.projections.view import Change, RowCache, View
from clusterlabel.projections.view_store import LIKE_ESCAPE, Conditions, Row, containing, stamp, unstamp


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
    signed_by: list[UUID] = []
    # A decision was recorded, whether it still stands or not (overturned on appeal, the case since withdrawn):
    # from then on its assessment is every reader's (interfaces/web/common.reads_the_assessment).
    decided: bool = False
    needs_attention: bool
    attention: list[str]
    submitted_at: datetime
    updated_at: datetime
    version: int


class ClusterName(BaseModel):
    cluster_id: UUID
    name: str
    country: str


# ---- the case's events, on the view's row -----------------------------------------------


def _follow(row: Row, change: Change) -> None:
    """Take the state the domain says the event leads to; a new state settles what needed attention."""
    state = case_state_after(change.event_type, change)
    if state is not None and state != row["state"]:
        row["state"] = state.value
        row["attention"] = []


def _clear_proposal(row: Row, change: Change) -> None:
    row["proposed_expert_id"] = None
    row["deadlines"].pop("response", None)


def _proposed(row: Row, change: Change) -> None:
    row["proposed_expert_id"] = change["expert_id"]
    row["deadlines"]["response"] = change["response_due"]
    row["attention"] = []


def _accepted(row: Row, change: Change) -> None:
    row["experts"] = [*row["experts"], change["expert_id"]]
    _clear_proposal(row, change)


def _released(row: Row, change: Change) -> None:
    row["experts"] = [expert for expert in row["experts"] if expert != change["expert_id"]]
    if row["proposed_expert_id"] == change["expert_id"]:
        _clear_proposal(row, change)
    row["deadlines"].pop("audit", None)
    row["deadlines"].pop("agreement", None)  # the team is no longer complete (CertificationCase)
    row["signed_by"] = []  # the new team signs its own assessment


def _agreed(row: Row, change: Change) -> None:
    row["deadlines"]["audit"] = change["audit_due"]
    row["deadlines"].pop("agreement", None)


def _objected(row: Row, change: Change) -> None:
    row["experts"] = []
    row["deadlines"].pop("agreement", None)


def _decided(row: Row, change: Change) -> None:
    row["decided"] = 1
    if row["state"] == CaseState.REFUSED:  # the state the decision led to
        row["deadlines"]["appeal"] = change["appeal_due"]


def _appeal_decided(row: Row, change: Change) -> None:
    row["attention"] = []  # the appeals panel decided: an escalation of its delay is settled
    if change["upheld"]:
        row["deadlines"]["decision"] = change["decision_due"]
        row["label_id"] = None  # an award's label stands aside until the new decision (CertificationCase)


def _rejection_appeal_decided(row: Row, change: Change) -> None:
    row["attention"] = []
    if change["upheld"]:
        row["deadlines"]["screening"] = change["screening_due"]


def _report_submitted(row: Row, change: Change) -> None:
    row["deadlines"]["decision"] = change["decision_due"]
    if change["expert_id"] not in row["signed_by"]:  # a team of one signs by submitting
        row["signed_by"] = [*row["signed_by"], change["expert_id"]]


def _nothing(row: Row, change: Change) -> None:
    pass


# What each event changes in the row besides its state (which _follow has already taken).
_CASE_DATA = {
    "Screened": _nothing,
    "ExpertProposed": _proposed,
    "ExpertAccepted": _accepted,
    "AgreementRequested": lambda row, change: row["deadlines"].update(agreement=change["agreement_due"]),
    "ExpertDeclined": _clear_proposal,
    "ExpertResponseTimedOut": _clear_proposal,
    "ExpertReleased": _released,
    "Escalated": lambda row, change: row.update(attention=list(dict.fromkeys([*row["attention"], change["reason"]]))),
    "ClusterAgreedToExperts": _agreed,
    "ClusterObjectedToExperts": _objected,
    "AuditScheduled": _nothing,
    "AuditHeld": _nothing,
    "AssessmentSubmitted": _nothing,
    "ReportDrafted": lambda row, change: row.update(signed_by=[change["expert_id"]]),
    "AssessmentSigned": lambda row, change: row.update(signed_by=[*row["signed_by"], change["expert_id"]]),
    "ReportSubmitted": _report_submitted,
    "EligibilityLapsed": _nothing,
    "DecisionRecorded": _decided,
    "AppealWindowOpened": lambda row, change: row["deadlines"].update(appeal=change["appeal_due"]),
    "AppealLodged": _nothing,
    "AppealDecided": _appeal_decided,
    "RejectionAppealDecided": _rejection_appeal_decided,
    "LabelIssued": lambda row, change: row.update(label_id=change["label_id"], attention=[]),
    "Withdrawn": _nothing,
}


class CaseStatusView(View):
    name = "case_status"
    cost = 5.4
    # 2: an upheld appeal against an award sets the award's label aside; 3: the agreement's deadline;
    # 4: whether a decision was ever recorded; 5: a decided appeal settles its escalation; 6: each reason once
    revision = 6
    view_tables = ("case_status", "case_status_clusters")
    ddl = (
        "CREATE TABLE IF NOT EXISTS {case_status} (case_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, "
        "level TEXT, kind TEXT, state TEXT NOT NULL, catalogue_version TEXT, experts TEXT, proposed_expert_id TEXT, "
        "deadlines TEXT, deadline_step TEXT, deadline_at TEXT, label_id TEXT, signed_by TEXT, attention TEXT, "
        "needs_attention INTEGER, decided INTEGER, submitted_at TEXT, updated_at TEXT, version BIGINT)",
        "CREATE INDEX IF NOT EXISTS case_status_by_state ON {case_status} (state, deadline_at)",
        "CREATE INDEX IF NOT EXISTS case_status_by_cluster ON {case_status} (cluster_id)",
        "CREATE TABLE IF NOT EXISTS {case_status_clusters} (cluster_id TEXT PRIMARY KEY, name TEXT, country TEXT)",
    )
    handlers: ClassVar[dict[str, str]] = {
        "Cluster.Registered": "_cluster",
        "Cluster.ProfileUpdated": "_cluster",
        "CertificationCase.Submitted": "_submitted",
        **{f"CertificationCase.{name}": "_changed" for name in _CASE_DATA},
    }

    def begin_batch(self, cursor: Any, changes: Sequence[Change]) -> dict[str, RowCache]:
        cases = RowCache(self, "case_status", "case_id", ("experts", "deadlines", "attention", "signed_by"))
        changed = [
            change.key
            for change in changes
            if change.aggregate_type == "CertificationCase" and change.event_type != "Submitted"
        ]
        return {
            "cases": cases.prefetch(cursor, changed),
            "clusters": RowCache(self, "case_status_clusters", "cluster_id"),
        }

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
            "signed_by": [],
            "attention": [],
            "decided": 0,
            "submitted_at": change["submitted_at"],
            "updated_at": change["submitted_at"],
        }
        batch["cases"].put(_with_deadline(row, change.version))

    def _changed(self, cursor: Any, batch: dict[str, RowCache], change: Change) -> None:
        row = batch["cases"].get(cursor, change.key)
        if row is None:
            return  # a case whose creation this view never saw (cannot happen in one log)
        _follow(row, change)
        _CASE_DATA[change.event_type](row, change)
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
        level: str | None = None,
        cluster_id: UUID | None = None,
        expert_id: UUID | None = None,
        overdue: bool = False,
        needs_attention: bool = False,
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[CaseStatus]:
        """`text` finds a case by the start of its id or by a part of its cluster's name, in any case."""
        where = Conditions()
        if state is not None:
            where.add("s.state = ?", str(CaseState(state).value))
        if level is not None:
            where.add("s.level = ?", level)
        where.search(text, start_of="s.case_id", part_of="LOWER(c.name)")
        if cluster_id is not None:
            where.add("s.cluster_id = ?", str(cluster_id))
        if expert_id is not None:
            # Ids are unique text, so a match inside the JSON list is exact.
            where.add("(s.experts LIKE ? OR s.proposed_expert_id = ?)", f'%"{expert_id}"%', str(expert_id))
        if overdue:
            where.add("s.deadline_at IS NOT NULL AND s.deadline_at <= ?", stamp(now))
        if needs_attention:
            where.add("s.needs_attention = 1")
        sql = self._SELECT + "WHERE " + where.sql() + " ORDER BY s.submitted_at, s.case_id LIMIT ? OFFSET ?"
        return [_status(row, now) for row in self.fetch(sql, (*where.params, limit, offset))]

    def clusters(
        self, *, text: str | None = None, country: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[ClusterName]:
        """Registered clusters by name; `text` a part of the name, in any case."""
        where = Conditions()
        if text:
            where.add(f"LOWER(name) LIKE ? {LIKE_ESCAPE}", containing(text))
        if country:
            where.add("country = ?", country.upper())
        sql = "SELECT * FROM {case_status_clusters} WHERE " + where.sql() + " ORDER BY name, cluster_id"
        rows = self.fetch(sql + " LIMIT ? OFFSET ?", (*where.params, limit, offset))
        return [ClusterName.model_validate(row) for row in rows]

    def state_counts(self) -> dict[str, int]:
        counts = {state.value: 0 for state in CaseState}
        for row in self.fetch("SELECT state, COUNT(*) AS n FROM {case_status} GROUP BY state"):
            counts[row["state"]] = int(row["n"])
        return counts

    def overdue_count(self, now: datetime) -> int:
        rows = self.fetch(
            "SELECT COUNT(*) AS n FROM {case_status} WHERE deadline_at IS NOT NULL AND deadline_at <= ?", (stamp(now),)
        )
        return int(rows[0]["n"])


def _with_deadline(row: Row, version: int) -> Row:
    """Recompute the derived columns: the current deadline and the attention flag."""
    step = deadline_step(row["state"], row["proposed_expert_id"] is not None, "agreement" in row["deadlines"])
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
        signed_by=json.loads(row["signed_by"] or "[]"),
        decided=bool(row["decided"]),
        needs_attention=bool(row["needs_attention"]),
        attention=json.loads(row["attention"]),
        submitted_at=unstamp(row["submitted_at"]),
        updated_at=unstamp(row["updated_at"]),
        version=int(row["version"]),
    )
