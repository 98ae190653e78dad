"""Certification cases: the application opens a case and starts its workflow; every later human step
is an update of that workflow, so the workflow stays the orchestrator of the case."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from clusterlabel.activities.handlers import handle
from clusterlabel.activities.models import CaseView
from clusterlabel.activities.views import case_view
from clusterlabel.domain import commands
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import Level, NotFound
from clusterlabel.domain.baseline import Baseline, current_baseline_for
from clusterlabel.domain.catalogue_shelf import current_version_for, load_catalogue
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.command_base import CaseCommand, Envelope
from clusterlabel.domain.instants import Instant
from clusterlabel.interfaces.web.access import holds_the_case, own_cases, reads_evidence, visible_case
from clusterlabel.interfaces.web.auth import (
    AppealsPanel,
    Bearer,
    Caller,
    Decider,
    Expert,
    Officer,
    Principal,
    check_for_the_cluster,
    read_as_caller,
)
from clusterlabel.interfaces.web.bodies import (
    AgreementIn,
    AppealDecisionIn,
    AppealIn,
    ApplicationIn,
    AssessmentIn,
    AssignmentIn,
    AuditDateIn,
    AuditHeldIn,
    DecisionIn,
    ScreeningIn,
    SignatureIn,
    WithdrawalIn,
)
from clusterlabel.interfaces.web.case_details import no_conflict_declared
from clusterlabel.interfaces.web.common import (
    ERRORS,
    Key,
    case_out,
    case_summary,
    creation_key,
    for_the_reader,
    reads_the_assessment,
)
from clusterlabel.interfaces.web.errors import ApiError, from_temporal
from clusterlabel.interfaces.web.message_history import case_events
from clusterlabel.interfaces.web.report import freeze_soon
from clusterlabel.interfaces.web.schemas import (
    BenchmarkOut,
    CaseCreated,
    CaseFilters,
    CaseOut,
    CaseSummary,
    History,
    HistoryEvent,
    IndicatorOut,
)
from clusterlabel.interfaces.web.services import Services, Svc
from clusterlabel.interfaces.web.steps import catch_up, step_envelope, take_step
from clusterlabel.interfaces.web.steps import resume as resume_workflow
from clusterlabel.workflows.case import CaseWorkflow
from clusterlabel.workflows.starter import case_handle, start_case_workflow

router = APIRouter(tags=["cases"], responses=ERRORS)


# ---- applications -----------------------------------------------------------------------


@router.post("/applications", status_code=201, summary="Apply for a label: opens a case")
async def apply(body: ApplicationIn, svc: Svc, who: Caller, key: Key = None) -> CaseCreated:
    """An officer applies for any cluster, a contact for their own (another cluster answers as unknown)."""
    if not who.holds(Role.OFFICER):
        if not who.holds(Role.CLUSTER):
            raise ApiError(403, "only an officer or the cluster's contact may apply for a label")
        if who.cluster_id != body.cluster_id:
            raise ApiError(404, f"no cluster with id {body.cluster_id}")
    client = svc.temporal()
    command = commands.SubmitApplication.model_validate(body.model_dump())
    envelope = Envelope(actor=who.actor, key=creation_key("application", key))
    case = await run_in_threadpool(handle, svc.app, command.cluster_id, command, envelope)
    svc.wrote()
    try:
        # Starting it again (a retried request) finds the running workflow.
        await start_case_workflow(client, case.id, svc.task_queue)
    except RPCError as error:  # the case is saved; a retry with the same key starts its workflow
        raise from_temporal(error, "") from None
    return CaseCreated(case_id=case.id)


# ---- reading ----------------------------------------------------------------------------


@router.get("/cases", summary="Cases, filtered; an expert or a cluster contact sees only theirs")
def list_cases(svc: Svc, who: Caller, filters: Annotated[CaseFilters, Query()]) -> list[CaseSummary]:
    filters = own_cases(filters, who)
    svc.fresh()
    return [case_summary(status, who) for status in svc.models.cases(svc.now(), **filters.model_dump())]


@router.get("/cases/{case_id}", summary="A case now, or as it stood at `as_of`")
def get_case(case_id: UUID, svc: Svc, who: Caller, as_of: Instant | None = None) -> CaseOut:
    case = visible_case(svc, case_id, who)
    if as_of is not None:
        svc.fresh()
        version = svc.models.audit.version_at(case_id, as_of)
        if version is None:
            raise ApiError(404, f"case {case_id} did not exist yet at {as_of.isoformat()}")
        case = svc.app.repository.get(case_id, version=version)
    at = as_of or svc.now()
    out = case_out(case_view(svc.app.policy, case, at))
    declared = no_conflict_declared(svc, case, at)
    return for_the_reader(out.model_copy(update={"no_conflict_declared": declared}), case.decision is not None, who)


@router.get("/cases/{case_id}/history", summary="Every event of the case, oldest first")
async def case_history(case_id: UUID, svc: Svc, token: Bearer) -> History:
    # async, authenticated and read on one worker thread (auth.read_as_caller): a plain `def` route
    # hops to a worker for the caller, again for its body and again for FastAPI's check of its answer
    return History(events=await read_as_caller(svc, token, partial(_case_history_shown, svc, case_id)))


def _case_history_shown(svc: Services, case_id: UUID, who: Principal) -> list[HistoryEvent]:
    """The secretariat sees every case, so its read loads none: the history itself says whether the case
    exists (access.holds_the_case). Anyone else is authorised on the case first (access.visible_case)."""
    case = None if who.sees_everything else visible_case(svc, case_id, who)
    svc.fresh()
    events = case_events(svc, case_id, who, case.team if case else (), case is None or reads_evidence(who, case))
    if who.sees_everything and not holds_the_case(events, case_id):
        visible_case(svc, case_id, who)  # no such case (404), or its first events not in the view yet
    return events


@router.get("/cases/{case_id}/benchmark", summary="The case's scores against its peers")
def benchmark(case_id: UUID, svc: Svc, who: Caller) -> BenchmarkOut:
    case = visible_case(svc, case_id, who)
    if not reads_the_assessment(who, case.team, case.decision is not None):
        raise ApiError(409, f"case {case_id} is not decided yet: its benchmarking is read by its team until it is")
    svc.fresh()
    found = svc.models.benchmark(case_id, svc.app.policy.peer_group_minimum)
    if found is None or case.assessed_at is None:  # (the view keeps the scores of a released expert's version)
        raise ApiError(404, f"case {case_id} has not been assessed yet")
    return BenchmarkOut.model_validate(found.model_dump())


@router.get("/indicators", summary="The indicators a new assessment at a level is scored on")
def indicators(svc: Svc, who: Caller, level: Level = Level.BRONZE) -> list[IndicatorOut]:
    catalogue = load_catalogue(current_version_for(level.value, svc.now()))
    return [
        IndicatorOut.model_validate({**item.model_dump(), "catalogue_version": catalogue.version})
        for item in catalogue.indicators
    ]


@router.get("/baseline", summary="The baseline minimum requirements a new Silver case is checked on")
def baseline(svc: Svc, who: Caller) -> Baseline:
    """Each a pass/fail requirement: a Silver assessment's validation gives a verdict on every one."""
    return current_baseline_for(svc.now())


# ---- human steps ---------------------------------------------------------------------------


async def _step(
    svc: Services,
    who: Principal,
    case_id: UUID,
    update: Any,
    command: CaseCommand,
    key: str | None,
    for_the_cluster: str | None = None,
) -> CaseOut:
    """Authorise the caller on the case (for a step `for_the_cluster`, its own cluster's contact or an
    officer), then take the step as an update of the case's workflow; answered as the caller may read it."""
    client = svc.temporal()
    if for_the_cluster is not None:  # the role first, as a route's role dependency answers before any load
        check_for_the_cluster(who, for_the_cluster)
    case = await run_in_threadpool(visible_case, svc, case_id, who)  # authorises the caller: one load
    if for_the_cluster is not None:
        check_for_the_cluster(who, for_the_cluster, case.cluster_id)
    envelope = step_envelope(who.actor, "case", case_id, update.__name__, key)
    if case.has_applied(envelope.key):
        # A retry: Temporal would answer it only within the run that took the step, and the case's
        # workflow may have closed since. The case as it stands is the answer, once the workflow knows it.
        await catch_up(case_handle(client, case_id))
        return for_the_reader(case_out(case_view(svc.app.policy, case, svc.now())), case.decision is not None, who)
    view: CaseView = await take_step(
        svc,
        case_handle(client, case_id),
        update,
        command,
        envelope,
        still_open=lambda: svc.app.get_case(case_id).is_open,
        closed_detail=lambda: _closed_detail(svc.app.get_case(case_id)),
    )
    # Decided or not as the case was before the step: no step of a reader kept from the assessment decides.
    return for_the_reader(case_out(view), case.decision is not None, who)


def _closed_detail(case: CertificationCase) -> str:
    return f"case {case.id} is {case.state.value} and closed: its workflow takes no more steps"


@router.post("/cases/{case_id}/screening", summary="Accept or reject the application")
async def screen(case_id: UUID, body: ScreeningIn, svc: Svc, who: Officer, key: Key = None) -> CaseOut:
    return await _step(svc, who, case_id, CaseWorkflow.screen, body, key)


@router.post("/cases/{case_id}/assignment", summary="The proposed expert accepts or declines")
async def respond(case_id: UUID, body: AssignmentIn, svc: Svc, who: Expert, key: Key = None) -> CaseOut:
    command = commands.AnswerProposal(expert_id=who.expert_id, **body.model_dump())
    return await _step(svc, who, case_id, CaseWorkflow.respond_to_proposal, command, key)


@router.post("/cases/{case_id}/agreement", summary="Record the cluster's agreement to the experts")
async def agree(case_id: UUID, body: AgreementIn, svc: Svc, who: Caller, key: Key = None) -> CaseOut:
    """Recorded by the cluster's contact on their own cluster's case, or by an officer on the cluster's behalf."""
    return await _step(svc, who, case_id, CaseWorkflow.record_agreement, body, key, "record the cluster's agreement")


@router.post("/cases/{case_id}/audit-date", summary="Schedule the audit (interview or visit)")
async def schedule(case_id: UUID, body: AuditDateIn, svc: Svc, who: Officer, key: Key = None) -> CaseOut:
    return await _step(svc, who, case_id, CaseWorkflow.schedule_audit, body, key)


@router.post(
    "/cases/{case_id}/audit-held",
    summary="A team expert (or an officer for the team) records that the audit took place",
)
async def audit_held(case_id: UUID, body: AuditHeldIn, svc: Svc, who: Caller, key: Key = None) -> CaseOut:
    """On the scheduled date unless `held_on` names another; an expert off the case's team is refused with 403,
    on an unknown case id as on another's case."""
    case = await run_in_threadpool(_case_or_none, svc, case_id)
    if who.is_expert and case is not None and who.expert_id in case.team:
        expert_id = who.expert_id
    elif who.holds(Role.OFFICER):
        expert_id = None
    else:
        raise ApiError(403, "only an expert of the case's team, or an officer for them, records the audit as held")
    command = commands.RecordAuditHeld(expert_id=expert_id, **body.model_dump())
    return await _step(svc, who, case_id, CaseWorkflow.record_audit_held, command, key)


@router.post("/cases/{case_id}/assessment", summary="An assigned expert submits scores and report")
async def assess(case_id: UUID, body: AssessmentIn, svc: Svc, who: Expert, key: Key = None) -> CaseOut:
    command = commands.SubmitAssessment(expert_id=who.expert_id, **body.model_dump())
    return await _step(svc, who, case_id, CaseWorkflow.submit_assessment, command, key)


@router.post(
    "/cases/{case_id}/assessment/signature",
    summary="A team expert signs the team's assessment (Gold: the second signature moves it to decision)",
)
async def sign(case_id: UUID, body: SignatureIn, svc: Svc, who: Expert, key: Key = None) -> CaseOut:
    """Only an expert of the case's team signs: any other expert is refused with 403, on an unknown case id
    as on another's case, so the answer tells them nothing about which cases exist."""
    assert who.expert_id is not None  # the Expert guard
    case = await run_in_threadpool(_case_or_none, svc, case_id)
    if case is None or who.expert_id not in case.team:
        raise ApiError(403, f"expert {who.expert_id} is not on this case's team and cannot sign its assessment")
    command = commands.SignAssessment(expert_id=who.expert_id, **body.model_dump())
    return await _step(svc, who, case_id, CaseWorkflow.sign_assessment, command, key)


def _case_or_none(svc: Services, case_id: UUID) -> CertificationCase | None:
    try:
        return svc.app.get_case(case_id)
    except NotFound:
        return None


@router.post("/cases/{case_id}/decision", summary="Award or refuse (never by anyone who audited the case)")
async def decide(case_id: UUID, body: DecisionIn, svc: Svc, who: Decider, key: Key = None) -> CaseOut:
    """The decider is the caller's account; the case refuses one who took part in its evaluation (403).
    The benchmarking report is frozen right after, without holding up the answer (interfaces/web/report.py)."""
    decided = await _step(svc, who, case_id, CaseWorkflow.record_decision, body, key)
    freeze_soon(svc, case_id)
    return decided


@router.post("/cases/{case_id}/withdrawal", summary="Withdraw an open case")
async def withdraw(case_id: UUID, body: WithdrawalIn, svc: Svc, who: Officer, key: Key = None) -> CaseOut:
    return await _step(svc, who, case_id, CaseWorkflow.withdraw, body, key)


@router.post(
    "/cases/{case_id}/appeal", summary="Lodge the cluster's appeal against a refusal or a rejection at screening"
)
async def appeal(case_id: UUID, body: AppealIn, svc: Svc, who: Caller, key: Key = None) -> CaseOut:
    """Lodged by the cluster's contact, or by an officer on the cluster's behalf."""
    return await _step(svc, who, case_id, CaseWorkflow.lodge_appeal, body, key, "lodge an appeal")


@router.post("/cases/{case_id}/appeal/decision", summary="Decide the appeal (not by the first decision maker)")
async def decide_appeal(case_id: UUID, body: AppealDecisionIn, svc: Svc, who: AppealsPanel, key: Key = None) -> CaseOut:
    return await _step(svc, who, case_id, CaseWorkflow.decide_appeal, body, key)


@router.post(
    "/cases/{case_id}/resume", summary="Have the case's workflow try again an automatic step it asked for help with"
)
async def resume(case_id: UUID, svc: Svc, who: Officer, key: Key = None) -> CaseOut:
    """For a case flagged "… was refused 5 times": once the cause is fixed, its workflow looks again."""
    case = await run_in_threadpool(visible_case, svc, case_id, who)
    await resume_workflow(case_handle(svc.temporal(), case_id), _closed_detail(case))
    return case_out(case_view(svc.app.policy, case, svc.now()))
