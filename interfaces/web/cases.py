"""Certification cases: the application opens a case and starts its workflow; every later human step
is an update of that workflow, so the workflow stays the orchestrator of the case."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from domain.base import DomainError, Level
from domain.catalogue import Catalogue, current_version_for, load_catalogue
from domain.certification_case import CaseState, CertificationCase
from domain.instants import Instant
from interfaces.web.auth import Caller, Expert, Principal, Secretariat
from interfaces.web.common import (
    ERRORS,
    IdempotencyKey,
    case_out,
    case_summary,
    command_key,
    history_events,
    update_id,
    visible_case,
)
from interfaces.web.errors import ApiError, from_domain, from_temporal
from interfaces.web.schemas import (
    AgreementIn,
    AppealDecisionIn,
    AppealIn,
    ApplicationIn,
    AssessmentIn,
    AssignmentIn,
    AuditDateIn,
    BenchmarkOut,
    CaseCreated,
    CaseOut,
    CaseSummary,
    DecisionIn,
    History,
    IndicatorOut,
    ScreeningIn,
    WithdrawalIn,
)
from interfaces.web.services import Services, services
from workflows.case import CaseWorkflow
from workflows.messages import (
    DecideAppeal,
    HumanStep,
    LodgeAppeal,
    RecordAgreement,
    RecordDecision,
    RespondToProposal,
    ScheduleAudit,
    ScreenApplication,
    SubmitAssessment,
    WithdrawCase,
)
from workflows.starter import case_handle, start_case_workflow

router = APIRouter(tags=["cases"], responses=ERRORS)
Svc = Annotated[Services, Depends(services)]
# A step is a few activities long; past this the engine is in trouble and the client should retry.
STEP_TIMEOUT_SECONDS = 30.0
# How long a step waits for a workflow that is not started yet (see _workflow_behind).
CATCH_UP_SECONDS = 5.0
CATCH_UP_PAUSE_SECONDS = 0.1


# ---- applications -----------------------------------------------------------------------


@router.post("/applications", status_code=201, response_model=CaseCreated, summary="Apply for a label: opens a case")
async def apply(body: ApplicationIn, svc: Svc, who: Secretariat, key: IdempotencyKey = None) -> CaseCreated:
    client = svc.temporal()

    def submit() -> UUID:
        try:
            return svc.app.submit_application(
                body.cluster_id,
                body.level,
                actor=who.actor,
                command_key=command_key("application", key),
                improvement_areas=body.improvement_areas or None,
            )
        except DomainError as error:
            loc = ["body", "improvement_areas"] if "improvement areas" in error.message else ["body", "cluster_id"]
            raise from_domain(error, loc) from None

    case_id = await run_in_threadpool(submit)
    svc.wrote()
    # Starting it again (a retried request) finds the running workflow.
    await start_case_workflow(client, case_id, svc.task_queue)
    return CaseCreated(case_id=case_id)


# ---- reading ----------------------------------------------------------------------------


@router.get("/cases", response_model=list[CaseSummary], summary="Cases, filtered; an expert sees only their own")
def list_cases(
    svc: Svc,
    who: Caller,
    state: CaseState | None = None,
    cluster_id: UUID | None = None,
    expert_id: UUID | None = None,
    overdue: bool = False,
    needs_attention: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CaseSummary]:
    if who.is_expert:
        if expert_id is not None and expert_id != who.expert_id:
            raise ApiError(403, "an expert may list only their own cases")
        expert_id = who.expert_id
    svc.fresh()
    statuses = svc.models.cases(
        svc.now(),
        state=state,
        cluster_id=cluster_id,
        expert_id=expert_id,
        overdue=overdue,
        needs_attention=needs_attention,
        limit=limit,
        offset=offset,
    )
    return [case_summary(status) for status in statuses]


@router.get("/cases/{case_id}", response_model=CaseOut, summary="A case now, or as it stood at `as_of`")
def get_case(case_id: UUID, svc: Svc, who: Caller, as_of: Instant | None = None) -> CaseOut:
    case = visible_case(svc, case_id, who)
    if as_of is None:
        return case_out(case)
    svc.fresh()
    version = svc.models.audit.version_at(case_id, as_of)
    if version is None:
        raise ApiError(404, f"case {case_id} did not exist yet at {as_of.isoformat()}")
    return case_out(svc.app.repository.get(case_id, version=version))


@router.get("/cases/{case_id}/history", response_model=History, summary="Every event of the case, oldest first")
def case_history(case_id: UUID, svc: Svc, who: Caller) -> History:
    visible_case(svc, case_id, who)
    svc.fresh()
    return History(events=history_events(svc.models.history(case_id), who))


@router.get("/cases/{case_id}/benchmark", response_model=BenchmarkOut, summary="The case's scores against its peers")
def benchmark(case_id: UUID, svc: Svc, who: Caller) -> BenchmarkOut:
    visible_case(svc, case_id, who)
    svc.fresh()
    found = svc.models.benchmark(case_id)
    if found is None:
        raise ApiError(404, f"case {case_id} has not been assessed yet")
    return BenchmarkOut.model_validate(found.model_dump())


@router.get("/indicators", response_model=list[IndicatorOut], summary="The indicators a new assessment at a level is scored on")
def indicators(who: Caller, level: Level = Level.BRONZE) -> list[IndicatorOut]:
    catalogue = load_catalogue(current_version_for(level.value))
    return [IndicatorOut.model_validate(item.model_dump()) for item in catalogue.indicators]


# ---- human steps ---------------------------------------------------------------------------


async def _step(
    svc: Services,
    who: Principal,
    case_id: UUID,
    update: Callable[[Any, Any], Awaitable[Any]],
    step: HumanStep,
    *,
    name: str,
    key: str | None,
    check: Callable[[CertificationCase], None] | None = None,
) -> CaseOut:
    """Run one human step as an update of the case's workflow; refusals keep the case unchanged."""
    client = svc.temporal()
    case = await run_in_threadpool(visible_case, svc, case_id, who)
    if check is not None:
        check(case)
    handle = case_handle(client, case_id)
    deadline = asyncio.get_running_loop().time() + CATCH_UP_SECONDS
    while True:
        try:
            await asyncio.wait_for(handle.execute_update(update, step, id=update_id(name, case_id, key)), STEP_TIMEOUT_SECONDS)
            break
        except (WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError, TimeoutError) as error:
            case = await run_in_threadpool(svc.app.get_case, case_id)
            if asyncio.get_running_loop().time() < deadline and _workflow_behind(error, case):
                await asyncio.sleep(CATCH_UP_PAUSE_SECONDS)
                continue
            raise from_temporal(
                error, f"case {case_id} is {case.state.value} and closed: its workflow takes no more steps"
            ) from None
    svc.wrote()
    return case_out(await run_in_threadpool(svc.app.get_case, case_id))


def _workflow_behind(error: BaseException, case: CertificationCase) -> bool:
    """The case's workflow is not started yet. (A step the workflow's view has not caught up with
    waits in the workflow itself, which checks it again under its command lock.)"""
    return isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND and case.is_open


@router.post("/cases/{case_id}/screening", response_model=CaseOut, summary="Accept or reject the application")
async def screen(case_id: UUID, body: ScreeningIn, svc: Svc, who: Secretariat, key: IdempotencyKey = None) -> CaseOut:
    step = ScreenApplication(actor=who.actor, idempotency_key=key, accepted=body.accepted, reason=body.reason)
    return await _step(svc, who, case_id, CaseWorkflow.screen, step, name="screen", key=key)


@router.post("/cases/{case_id}/assignment", response_model=CaseOut, summary="The proposed expert accepts or declines")
async def respond(case_id: UUID, body: AssignmentIn, svc: Svc, who: Expert, key: IdempotencyKey = None) -> CaseOut:
    assert who.expert_id is not None
    step = RespondToProposal(actor=who.actor, idempotency_key=key, expert_id=who.expert_id, accept=body.accept, reason=body.reason)
    return await _step(svc, who, case_id, CaseWorkflow.respond_to_proposal, step, name="respond", key=key)


@router.post("/cases/{case_id}/agreement", response_model=CaseOut, summary="Record the cluster's agreement to the experts")
async def agree(case_id: UUID, body: AgreementIn, svc: Svc, who: Secretariat, key: IdempotencyKey = None) -> CaseOut:
    step = RecordAgreement(actor=who.actor, idempotency_key=key, agreed=body.agreed)
    return await _step(svc, who, case_id, CaseWorkflow.record_agreement, step, name="agree", key=key)


@router.post("/cases/{case_id}/audit-date", response_model=CaseOut, summary="Schedule the audit (interview or visit)")
async def schedule(case_id: UUID, body: AuditDateIn, svc: Svc, who: Secretariat, key: IdempotencyKey = None) -> CaseOut:
    step = ScheduleAudit(actor=who.actor, idempotency_key=key, audit_date=body.audit_date)
    return await _step(svc, who, case_id, CaseWorkflow.schedule_audit, step, name="schedule", key=key)


@router.post("/cases/{case_id}/assessment", response_model=CaseOut, summary="An assigned expert submits scores and report")
async def assess(case_id: UUID, body: AssessmentIn, svc: Svc, who: Expert, key: IdempotencyKey = None) -> CaseOut:
    assert who.expert_id is not None

    def covers_catalogue(case: CertificationCase) -> None:
        problems = assessment_problems(load_catalogue(case.catalogue_version), body)
        if problems:
            raise ApiError(422, problems)

    step = SubmitAssessment(
        actor=who.actor,
        idempotency_key=key,
        expert_id=who.expert_id,
        scores={item.code: item.score for item in body.indicators},
        evidence={item.code: item.evidence for item in body.indicators if item.evidence},
        report=body.report,
    )
    return await _step(svc, who, case_id, CaseWorkflow.submit_assessment, step, name="assess", key=key, check=covers_catalogue)


def assessment_problems(catalogue: Catalogue, body: AssessmentIn) -> list[dict[str, Any]]:
    """Every way the indicators miss the case's catalogue, each at its place in the body."""
    known = {item.code: item for item in catalogue.indicators}
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(body.indicators):
        indicator = known.get(item.code)
        if indicator is None:
            found.append(_problem(["body", "indicators", index, "code"], f"{item.code} is not an indicator of catalogue {catalogue.version}"))
        elif item.code in seen:
            found.append(_problem(["body", "indicators", index, "code"], f"{item.code} is scored more than once"))
        elif item.score > indicator.max_score:
            found.append(_problem(["body", "indicators", index, "score"], f"score {item.score} for {item.code} is outside 0..{indicator.max_score}"))
        seen.add(item.code)
    for code, indicator in known.items():
        if code not in seen:
            found.append(_problem(["body", "indicators"], f"indicator {code} ({indicator.title}) has no score", "missing_indicator"))
    return found


def _problem(loc: list[str | int], msg: str, kind: str = "invalid_indicator") -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


@router.post("/cases/{case_id}/decision", response_model=CaseOut, summary="Award or refuse (never by anyone who audited the case)")
async def decide(case_id: UUID, body: DecisionIn, svc: Svc, who: Caller, key: IdempotencyKey = None) -> CaseOut:
    if who.is_expert:
        raise ApiError(403, "only the secretariat decides, and never anyone who took part in the audit")
    case = await run_in_threadpool(visible_case, svc, case_id, who)
    step = RecordDecision(
        actor=who.actor,
        idempotency_key=key,
        outcome=body.outcome,
        level=body.level or case.level,
        rationale=body.rationale,
        decided_by=body.decided_by,
    )
    return await _step(svc, who, case_id, CaseWorkflow.record_decision, step, name="decide", key=key)


@router.post("/cases/{case_id}/withdrawal", response_model=CaseOut, summary="Withdraw an open case")
async def withdraw(case_id: UUID, body: WithdrawalIn, svc: Svc, who: Secretariat, key: IdempotencyKey = None) -> CaseOut:
    step = WithdrawCase(actor=who.actor, idempotency_key=key, reason=body.reason)
    return await _step(svc, who, case_id, CaseWorkflow.withdraw, step, name="withdraw", key=key)


@router.post("/cases/{case_id}/appeal", response_model=CaseOut, summary="Lodge the cluster's appeal against a refusal")
async def appeal(case_id: UUID, body: AppealIn, svc: Svc, who: Secretariat, key: IdempotencyKey = None) -> CaseOut:
    step = LodgeAppeal(actor=who.actor, idempotency_key=key, grounds=body.grounds)
    return await _step(svc, who, case_id, CaseWorkflow.lodge_appeal, step, name="appeal", key=key)


@router.post("/cases/{case_id}/appeal/decision", response_model=CaseOut, summary="Decide the appeal (not by the first decision maker)")
async def decide_appeal(case_id: UUID, body: AppealDecisionIn, svc: Svc, who: Secretariat, key: IdempotencyKey = None) -> CaseOut:
    step = DecideAppeal(actor=who.actor, idempotency_key=key, upheld=body.upheld, rationale=body.rationale, decided_by=body.decided_by)
    return await _step(svc, who, case_id, CaseWorkflow.decide_appeal, step, name="decide-appeal", key=key)
