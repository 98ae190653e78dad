"""The benchmarking report of a case: its data (activities/documents/report.ReportOut) gathered from the case,
the cluster, the label and the benchmarking view; the PDF frozen at the decision.

Who reads it: the secretariat, the case's experts and the cluster's contacts (a contact once the case is
decided); anyone else is answered as for an unknown case. It states the decision that stands
(CertificationCase.decision_in_force): after an upheld appeal none until the case is decided again, then
the new one, said to be taken on appeal. The PDF exists while a decision stands: the first time it is
asked for (or right after the decision, see cases.decide), it is rendered, kept under its SHA-256 in the
engine's file store (activities/files.py: the data directory, or the S3-compatible store every API
process shares) and the digest recorded on the case (ReportFrozen); every later download answers those
very bytes. It is frozen in English, the record's language; the page reads in
the reader's.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Query
from fastapi.responses import Response

from clusterlabel.activities.content.wording import languages
from clusterlabel.activities.documents.report import (
    ReportArea,
    ReportFrozen,
    ReportIndicator,
    ReportOut,
    ReportPeers,
    ReportValidation,
    ReportVerdict,
    report_pdf,
)
from clusterlabel.activities.files import FileMissing
from clusterlabel.activities.handlers import handle
from clusterlabel.domain import commands
from clusterlabel.domain.baseline import load_baseline
from clusterlabel.domain.case_lifecycle import Outcome
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.command_base import Envelope, command_key
from clusterlabel.domain.peers import PeerGroup
from clusterlabel.interfaces.web.access import not_found, visible_case
from clusterlabel.interfaces.web.auth import Caller, Principal
from clusterlabel.interfaces.web.common import ERRORS, reads_the_assessment
from clusterlabel.interfaces.web.errors import ApiError, problems
from clusterlabel.interfaces.web.services import Services, Svc

router = APIRouter(tags=["cases"], responses=ERRORS)
log = structlog.get_logger(__name__)

Language = Annotated[
    str,
    Query(
        max_length=35,
        description="the language of a translation (the frozen report is English)",
        json_schema_extra={"enum": languages()},
    ),
]
REPORT_ACTOR = "system:report"
FROZEN_LANGUAGE = "en"
LABEL_WAIT_SECONDS = 10.0  # an award's label is issued by the case's workflow a moment after the decision


@router.get("/cases/{case_id}/report", summary="The case's benchmarking report")
def report(case_id: UUID, svc: Svc, who: Caller) -> ReportOut:
    """The cluster's contacts read it once the case is decided; the secretariat and the case's experts
    as soon as it is assessed."""
    return readable_report(svc, case_id, who)


@router.get(
    "/cases/{case_id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the report as frozen at the decision"}},
    summary="The benchmarking report as a PDF, frozen at the decision (409 before); ?lang=de: a translation",
)
def report_pdf_download(case_id: UUID, svc: Svc, who: Caller, lang: Language = FROZEN_LANGUAGE) -> Response:
    """The English PDF is the record, frozen at the decision; one in another language is a translation
    of the report as it reads now, rendered on request and never recorded."""
    case = report_case(svc, case_id, who)
    if lang == FROZEN_LANGUAGE:
        return pdf_response(frozen_pdf(svc, case), case_id)
    if lang not in languages():
        message = f"reports are not written in {lang!r}; choose one of: {', '.join(languages())}"
        raise ApiError(422, problems([message], ("query", "lang"), "unsupported_language"))
    if case.decision_in_force is None:
        raise no_decision_stands(case)
    return pdf_response(report_pdf(readable_report(svc, case_id, who), lang), case_id, lang)


def report_case(svc: Services, case_id: UUID, who: Principal) -> CertificationCase:
    """The case, for one who may read its report: the secretariat, its team, its cluster's contact, and an
    expert released from its team (once it is decided, as its cluster: the case page links it for them); an
    expert merely proposed sees the case, not its scores and findings, and is answered as for an unknown case."""
    case = visible_case(svc, case_id, who)
    readers = reads_the_assessment(who, case.team, decided=False) or who.speaks_for(case.cluster_id)
    if not (readers or who.expert_id in case.evaluators):
        raise not_found("case", case_id)
    return case


def readable_report(svc: Services, case_id: UUID, who: Principal) -> ReportOut:
    case = report_case(svc, case_id, who)
    if not reads_the_assessment(who, case.team, case.decision is not None):
        raise ApiError(409, f"case {case_id} is not decided yet: the cluster reads its report once it is")
    found = build_report(svc, case)
    if _recorded_for_decision(case) is not None:  # frozen for the decision that stands: not one overturned
        assert case.frozen_report is not None
        found.frozen = ReportFrozen(
            sha256=case.frozen_report["sha256"], size=case.frozen_report["size"], frozen_at=case.frozen_report["at"]
        )
    return found


def pdf_response(pdf: bytes, case_id: UUID, language: str = FROZEN_LANGUAGE) -> Response:
    suffix = "" if language == FROZEN_LANGUAGE else f"-{language}"
    headers = {"Content-Disposition": f'attachment; filename="benchmarking-report-{case_id}{suffix}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def build_report(svc: Services, case: CertificationCase) -> ReportOut:
    """The report of an assessed case as things stand (blocking: reads the store and the views)."""
    svc.fresh()
    minimum = svc.app.policy.peer_group_minimum
    benchmark = svc.models.benchmark(case.id, minimum)
    if benchmark is None or case.assessed_at is None:
        raise ApiError(409, f"case {case.id} has not been assessed yet: there is no report to read")
    catalogue = load_catalogue(benchmark.catalogue_version)
    profile = svc.app.get_cluster(case.cluster_id).profile
    indicators = {item.code: item for item in catalogue.indicators}
    written = case.findings["indicators"]
    group = benchmark.peer_group
    decision = case.decision_in_force or {}  # not the decision an upheld appeal overturned
    on_appeal = bool(decision) and case.decided_again  # the new decision an upheld appeal led to
    return ReportOut(
        case_id=case.id,
        cluster_id=case.cluster_id,
        cluster_name=profile.name,
        **profile.model_dump(include={"country", "sector", "members", "staff_fte"}),
        size_band=svc.app.policy.size_band(profile.members),
        level=case.level.value,
        outcome=decision.get("outcome"),
        # A refusal or a benchmarking records the level it weighed, but awards none.
        awarded_level=decision["level"].value if decision.get("outcome") == Outcome.AWARD.value else None,
        label_code=svc.app.get_label(case.label_id).label_code if case.label_id else None,
        decided_at=decision.get("at"),
        decided_on_appeal=on_appeal,
        catalogue_version=catalogue.version,
        catalogue_title=catalogue.title,
        assessed_at=case.assessed_at,
        peer_minimum=minimum,
        peers=None if group is None else _peers(group),
        areas=[
            ReportArea(
                code=area.code,
                name=area.title,
                summary=case.findings["areas"].get(area.code, ""),
                **found.model_dump(exclude={"area", "peer_count"}),
            )
            for area in catalogue.areas
            for found in benchmark.areas
            if found.area == area.code
        ],
        indicators=[
            ReportIndicator(
                code=found.indicator,
                title=indicators[found.indicator].title if found.indicator in indicators else found.indicator,
                area=indicators[found.indicator].area if found.indicator in indicators else "",
                max_score=indicators[found.indicator].max_score if found.indicator in indicators else found.score,
                **written.get(found.indicator, {}),
                **found.model_dump(exclude={"indicator", "peer_count"}),
            )
            for found in benchmark.indicators
        ],
        strengths=case.findings["strengths"],
        areas_for_improvement=case.findings["areas_for_improvement"],
        success_stories=case.findings["success_stories"],
        validation=silver_validation(case),
    )


def _peers(group: PeerGroup) -> ReportPeers:
    """The group's dimensions as kept; None for one widened away, or one not known ("")."""
    kept = {name: group.kept.get(name) or None for name in ("level", "sector", "country", "size_band")}
    return ReportPeers(count=group.count, widened=group.widened, **kept)


def frozen_pdf(svc: Services, case: CertificationCase, *, wait_for_label: bool = False) -> bytes:
    """The report's PDF as frozen for the case's decision: frozen now if it is not yet (blocking). Only the
    freeze right after the decision waits for an award's label; a download answers 409 at once meanwhile,
    so that no request holds a thread while a label is held up. 409 too while no decision stands: the PDF
    frozen for a decision an upheld appeal overturned is the report no more (its digest stays in the history)."""
    if case.decision_in_force is None:
        raise no_decision_stands(case)
    case = _with_its_label(svc, case, LABEL_WAIT_SECONDS if wait_for_label else 0.0)
    recorded = _recorded_for_decision(case)
    if recorded is None:
        pdf = report_pdf(build_report(svc, case), FROZEN_LANGUAGE)
        sha256 = svc.file_store().put(pdf)
        decided_at: datetime = case.decision_in_force["at"]  # type: ignore[index]  # decided: checked above
        key = command_key("case", case.id, "freeze_report", decided_at.isoformat())
        command = commands.FreezeReport(sha256=sha256, size=len(pdf))
        saved = handle(svc.app, case.id, command, Envelope(actor=REPORT_ACTOR, key=key))
        assert isinstance(saved, CertificationCase)
        case = saved
        svc.wrote()
        recorded = _recorded_for_decision(case)
        assert recorded is not None  # recorded now, by this request or by one racing it
        log.info("report frozen", case_id=str(case.id), sha256=recorded)
    try:
        return svc.file_store().get(recorded)
    except FileMissing:
        raise ApiError(
            503, f"the frozen report {recorded} of case {case.id} is not in this engine's file store"
        ) from None


def no_decision_stands(case: CertificationCase) -> ApiError:
    """409 for the PDF of a case on which no decision stands: not decided yet, or its decision overturned."""
    if case.decision is None:
        return ApiError(409, f"case {case.id} is not decided yet: its report is frozen at the decision")
    return ApiError(
        409, f"an upheld appeal overturned the decision on case {case.id}: its report is frozen at a new decision"
    )


def freeze_soon(svc: Services, case_id: UUID) -> None:
    """Freeze the report of a case just decided, in a worker thread: the decision's answer does not wait."""
    asyncio.get_running_loop().run_in_executor(None, freeze_after_decision, svc, case_id)


def freeze_after_decision(svc: Services, case_id: UUID) -> None:
    """Freeze the report right after a decision (in the background: a failure is logged, and the first
    download freezes it instead)."""
    try:
        frozen_pdf(svc, svc.app.get_case(case_id), wait_for_label=True)
    except Exception:
        log.exception("report not frozen after the decision", case_id=str(case_id))


def _recorded_for_decision(case: CertificationCase) -> str | None:
    record, decision = case.frozen_report, case.decision_in_force
    if record is None or decision is None or record["decided_at"] != decision["at"]:
        return None
    return str(record["sha256"])


def _with_its_label(svc: Services, case: CertificationCase, wait_seconds: float) -> CertificationCase:
    """The case once an award's label is issued (the report names it); a refusal or a benchmarking has none."""
    assert case.decision_in_force is not None
    awaits_label = case.decision_in_force["outcome"] == Outcome.AWARD.value  # a benchmarking has its own outcome
    deadline = time.monotonic() + wait_seconds
    while awaits_label and case.label_id is None and _recorded_for_decision(case) is None:
        if time.monotonic() > deadline:
            raise ApiError(409, f"the label of case {case.id} is being issued: its report follows in a moment")
        time.sleep(0.2)
        case = svc.app.get_case(case.id)
    return case


def silver_validation(case: CertificationCase) -> ReportValidation | None:
    """A Silver case's validation as the report shows it: each area by its Gold criterion, with the cluster's
    form beside the expert's verdict, then each baseline requirement."""
    found = case.silver_validation
    if found is None:
        return None
    criteria, baseline = load_catalogue(found["criteria_version"]), load_baseline(found["baseline_version"])
    described = {item["area"]: item for item in case.improvement_descriptions}
    areas = [
        ReportVerdict(
            code=code,
            title=criteria.indicator(code).title,
            passed=verdict["validated"],
            finding=verdict["finding"],
            actions=described.get(code, {}).get("actions", ""),
            evidence=described.get(code, {}).get("evidence", ""),
        )
        for code, verdict in found["areas"].items()
    ]
    requirements = [
        ReportVerdict(
            code=code, title=baseline.requirement(code).title, passed=verdict["met"], finding=verdict["finding"]
        )
        for code, verdict in found["requirements"].items()
    ]
    return ReportValidation(
        holds=found["holds"],
        baseline_version=found["baseline_version"],
        criteria_version=found["criteria_version"],
        areas=areas,
        requirements=requirements,
        recommendations=found["recommendations"],
    )
