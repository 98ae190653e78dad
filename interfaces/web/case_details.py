"""What the case page shows beside the case itself: the names of the people on it and in its timeline,
its evidence documents, and, once the case is decided, the team's assessment, its report and the decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from clusterlabel.domain.case_lifecycle import CASE_STEPS
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.evidence import EXTENSIONS
from clusterlabel.interfaces.web import evidence
from clusterlabel.interfaces.web.access import reads_evidence
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.naming import event_names
from clusterlabel.interfaces.web.schemas import HistoryEvent
from clusterlabel.interfaces.web.services import Services


@dataclass(frozen=True)
class ScoreRow:
    code: str
    title: str
    score: int
    max_score: int
    peer_median: float | None
    percentile: float | None


@dataclass(frozen=True)
class Assessment:
    """The decision and what it rested on, as the cluster reads them once the case is decided."""

    outcome: str
    level: str
    rationale: str
    report: str
    scores: list[ScoreRow]


def case_details(svc: Services, case: CertificationCase, events: list[HistoryEvent]) -> dict[str, Any]:
    """Blocking (the names and the benchmark are read from the stores): call it in a worker thread."""
    return {
        "named": event_names(svc, events, [*case.team, case.proposed_expert_id]),
        "assessment": assessment(svc, case, events) if case.decision else None,
    }


def no_conflict_declared(svc: Services, case: CertificationCase, at: datetime) -> dict[UUID, datetime]:
    """When each team expert declared, by `at`, no conflict of interest with the case's cluster: the
    declaration is the expert's record (domain/expert.py), read here for the case."""
    declared = {}
    for expert_id in case.team:
        declaration = svc.app.get_expert(expert_id).conflict_declarations.get(case.id)
        if declaration is not None and declaration[1] <= at:
            declared[expert_id] = declaration[1]
    return declared


def assessment(svc: Services, case: CertificationCase, events: list[HistoryEvent]) -> Assessment:
    """The decision that stands and the latest report in the timeline: an upheld appeal overturns the
    decision (its outcome is then empty until the case is decided again, by a second DecisionRecorded)."""
    decision = _latest(events, "DecisionRecorded") if case.decision_in_force else {}
    return Assessment(
        outcome=decision.get("outcome", ""),
        level=decision.get("level", ""),
        rationale=decision.get("rationale", ""),
        report=_latest(events, "ReportSubmitted").get("report", ""),
        scores=_scores(svc, case),
    )


def _latest(events: list[HistoryEvent], kind: str) -> dict[str, Any]:
    found = [event.data for event in events if event.type == kind]
    return found[-1] if found else {}


def _scores(svc: Services, case: CertificationCase) -> list[ScoreRow]:
    """Each indicator's score against the peers (the benchmark view), titled from the case's catalogue."""
    benchmark = svc.models.benchmark(case.id, svc.app.policy.peer_group_minimum)
    if benchmark is None:
        return []
    indicators = {item.code: item for item in load_catalogue(case.catalogue_version).indicators}
    rows = []
    for entry in benchmark.indicators:
        item = indicators.get(entry.indicator)
        rows.append(
            ScoreRow(
                code=entry.indicator,
                title=item.title if item else entry.indicator,
                score=entry.score,
                max_score=item.max_score if item else entry.score,
                peer_median=entry.peer_median,
                percentile=entry.percentile,
            )
        )
    return rows


# What the file chooser offers first; the server still reads every file's type from its content.
ACCEPT = ",".join(sorted({f".{extension}" for extension in EXTENSIONS.values()} | {".jpeg"}))


@dataclass(frozen=True)
class EvidenceRow:
    sha256: str
    name: str
    kind: str
    size: str
    by: str  # the actor, which the page names
    at: datetime


def evidence_section(case: CertificationCase, who: Principal) -> dict[str, Any]:
    """What the case page shows of the evidence: nothing to whom may not read it (an expert only proposed)."""
    if not reads_evidence(who, case):
        return {"evidence": None, "may_attach": False, "accept": ACCEPT}
    rows = [
        EvidenceRow(
            sha256,
            entry["file_name"],
            EXTENSIONS.get(entry["media_type"], entry["media_type"]).upper(),
            readable_size(entry["size"]),
            entry["by"],
            entry["at"],
        )
        for sha256, entry in case.evidence.items()
    ]
    open_case = case.state in CASE_STEPS["attach_evidence"][0]
    return {"evidence": rows, "may_attach": evidence.attaches_evidence(who) and open_case, "accept": ACCEPT}


def readable_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
