"""Labels: reading them, the secretariat's renewal, suspension, restoration and withdrawal, and the appeal
against a suspension or withdrawal (updates of the label's workflow). The public registry and the
verification of a certificate: registry.py.

A label in a URL is its UUID or its printed code (ECEI-B-XXXX-XXXX-XXXX); both are accepted everywhere.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from clusterlabel.activities.models import LabelView
from clusterlabel.activities.views import label_view
from clusterlabel.domain import commands
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.command_base import Envelope, LabelCommand
from clusterlabel.domain.instants import Instant
from clusterlabel.domain.label import Label
from clusterlabel.domain.label_commands import DecideLabelAppeal, LodgeLabelAppeal
from clusterlabel.domain.label_lifecycle import FINAL, LabelState, renewal_window_closed
from clusterlabel.interfaces.web.access import visible_cluster, visible_label
from clusterlabel.interfaces.web.auth import (
    AppealsPanel,
    Bearer,
    Caller,
    Officer,
    Principal,
    check_for_the_cluster,
    read_as_caller,
)
from clusterlabel.interfaces.web.bodies import (
    LabelAppealDecisionIn,
    LabelAppealIn,
    LabelWithdrawalIn,
    RenewalIn,
    RestorationIn,
    SuspensionIn,
)
from clusterlabel.interfaces.web.common import (
    ERRORS,
    Key,
    history_events,
    label_id_from,
    label_out,
)
from clusterlabel.interfaces.web.errors import ApiError, from_temporal
from clusterlabel.interfaces.web.message_history import label_events
from clusterlabel.interfaces.web.schemas import (
    CaseCreated,
    History,
    HistoryEvent,
    LabelOut,
)
from clusterlabel.interfaces.web.services import Services, Svc
from clusterlabel.interfaces.web.steps import catch_up, step_envelope, take_step
from clusterlabel.interfaces.web.steps import resume as resume_workflow
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.starter import execute_label_step_reviving, label_handle, start_case_workflow

router = APIRouter(tags=["labels"], responses=ERRORS)


@router.get("/labels/{label_ref}", summary="A label now, or as it stood at `as_of`")
def get_label(label_ref: str, svc: Svc, who: Caller, as_of: Instant | None = None) -> LabelOut:
    label_id = label_id_from(label_ref)
    label = visible_label(svc, label_id, who)
    if as_of is None:
        return label_out(label_view(svc.app.policy, label, svc.now()), label, svc.now(), who)
    svc.fresh()
    version = svc.models.audit.version_at(label_id, as_of)
    if version is None:
        raise ApiError(404, f"label {label.label_code} was not issued yet at {as_of.isoformat()}")
    then: Label = svc.app.repository.get(label_id, version=version)
    return label_out(label_view(svc.app.policy, then, as_of), then, as_of, who)


@router.get("/labels/{label_ref}/history", summary="Every event of the label, oldest first")
async def label_history(label_ref: str, svc: Svc, token: Bearer) -> History:
    # authenticated and read on one worker thread, as GET /cases/{id}/history
    return History(events=await read_as_caller(svc, token, partial(_label_history_shown, svc, label_ref)))


def _label_history_shown(svc: Services, label_ref: str, who: Principal) -> list[HistoryEvent]:
    label_id = label_id_from(label_ref)  # after the caller: an unknown code is 404, after their 401
    label = visible_label(svc, label_id, who)
    svc.fresh()
    return label_events(svc, label, who)


@router.get(
    "/clusters/{cluster_id}/history",
    summary="The cluster's events and those of its cases and labels (an expert: of their cases and labels alone)",
)
async def cluster_history(cluster_id: UUID, svc: Svc, token: Bearer) -> History:
    return History(events=await read_as_caller(svc, token, partial(_cluster_history_shown, svc, cluster_id)))


def _cluster_history_shown(svc: Services, cluster_id: UUID, who: Principal) -> list[HistoryEvent]:
    seen = visible_cluster(svc, cluster_id, who)
    svc.fresh()
    # The cluster's contact reads every file's name and its labels in full (common.reads_the_label_in_full);
    # an expert, the names of their team's files, and no label's appeal or succession.
    file_cases, full_labels = (None, None) if seen.records is None else (seen.team_cases, ())
    entries = svc.models.cluster_history(cluster_id, seen.records)
    return history_events(entries, who, seen.team_cases, file_cases, full_labels)


# ---- the secretariat's steps -------------------------------------------------------------


def closed_detail(label: Label) -> str:
    """Why a label whose workflow has ended takes no step: lapsed, superseded (by its renewal's label or a
    later round's), withdrawn."""
    if label.state is LabelState.LAPSED:
        return f"label {label.label_code} has lapsed: {renewal_window_closed(label.label_code, label.renewable_until)}"
    if label.state is LabelState.SUPERSEDED:
        return f"label {label.label_code} has been superseded by label {label.superseded_by}; act on that label"
    return f"label {label.label_code} is {label.state.value}; it takes no more steps"


APPEAL_STEPS = (LodgeLabelAppeal, DecideLabelAppeal)


async def _label_step(
    svc: Services,
    who: Principal,
    label_ref: str,
    update: Any,
    command: LabelCommand,
    key: str | None,
    for_the_cluster: str | None = None,
) -> LabelOut:
    """Authorise the caller on the label (for a step `for_the_cluster`, its own cluster's contact or an
    officer), take the step as an update of the label's workflow, and answer with the label as it left it."""
    if for_the_cluster is not None:  # the role first, as a route's role dependency answers before any load
        check_for_the_cluster(who, for_the_cluster)
    label_id = label_id_from(label_ref)
    label = await run_in_threadpool(visible_label, svc, label_id, who)
    if for_the_cluster is not None:
        check_for_the_cluster(who, for_the_cluster, label.cluster_id)
    envelope = step_envelope(who.actor, "label", label_id, update.__name__, key)
    return await _take_label_step(svc, who, label, update, command, envelope)


async def _take_label_step(
    svc: Services,
    who: Principal,
    label: Label,
    update: Any,
    command: LabelCommand,
    envelope: Envelope,
) -> LabelOut:
    if label.has_applied(envelope.key):
        # A retry: Temporal would answer it only within the run that took the step, and the label's
        # workflow may have continued as new or ended since. The label as it stands is the answer, once
        # the workflow knows it.
        await catch_up(label_handle(svc.temporal(), label.id))
        return label_out(label_view(svc.app.policy, label, svc.now()), label, svc.now(), who)
    # An appeal against a withdrawal comes after the label's workflow ended: it starts it again.
    reopens = isinstance(command, APPEAL_STEPS) and label.reopens(command, svc.now(), svc.app.policy)
    view: LabelView = await take_step(
        svc,
        label_handle(svc.temporal(), label.id),
        update,
        command,
        envelope,
        # Not started yet: its case starts it just after issuing the label.
        still_open=lambda: svc.app.get_label(label.id).state not in FINAL,
        closed_detail=lambda: closed_detail(svc.app.get_label(label.id)),
        order=partial(execute_label_step_reviving, svc.temporal(), label.id, svc.task_queue, update, command, envelope)
        if reopens
        else None,
    )
    return label_out(view, label, svc.now(), who)


@router.post("/labels/{label_ref}/renewal", status_code=201, summary="Open the label's renewal case")
async def renew(label_ref: str, svc: Svc, who: Caller, key: Key = None, body: RenewalIn | None = None) -> CaseCreated:
    """Requested by the cluster's contact for their own cluster's label, or by an officer on its behalf."""
    check_for_the_cluster(who, "start a renewal")
    command = body or commands.StartRenewal()
    label_id = label_id_from(label_ref)
    label = await run_in_threadpool(visible_label, svc, label_id, who)
    check_for_the_cluster(who, "start a renewal", label.cluster_id)
    envelope = step_envelope(who.actor, "label", label_id, "renewal", key)
    retried = label.has_applied(envelope.key)
    await _take_label_step(svc, who, label, LabelWorkflow.start_renewal, command, envelope)
    # The step's key names the case it opens: the same case for a retry, whenever it comes.
    case_id = CertificationCase.create_id(envelope.key)
    if retried:
        # The first attempt's update may have been lost with the Temporal server after it opened the case
        # and before it started the case's workflow: start it (a running or ended one is found, not doubled).
        try:
            await start_case_workflow(svc.temporal(), case_id, svc.task_queue)
        except RPCError as error:
            raise from_temporal(error, "") from None
    return CaseCreated(case_id=case_id)


@router.post(
    "/labels/{label_ref}/resume",
    summary="Have the label's workflow try again an automatic step the domain kept refusing",
)
async def resume(label_ref: str, svc: Svc, who: Officer, key: Key = None) -> LabelOut:
    label_id = label_id_from(label_ref)
    label = await run_in_threadpool(visible_label, svc, label_id, who)
    await resume_workflow(label_handle(svc.temporal(), label_id), closed_detail(label))
    return label_out(label_view(svc.app.policy, label, svc.now()), label, svc.now(), who)


@router.post("/labels/{label_ref}/suspension", summary="Suspend an active label")
async def suspend(label_ref: str, body: SuspensionIn, svc: Svc, who: Officer, key: Key = None) -> LabelOut:
    return await _label_step(svc, who, label_ref, LabelWorkflow.suspend, body, key)


@router.post("/labels/{label_ref}/restoration", summary="Restore a suspended label")
async def restore(
    label_ref: str, svc: Svc, who: Officer, key: Key = None, body: RestorationIn | None = None
) -> LabelOut:
    """The body, with the rationale, may be left out: a restoration sent before it had one stays valid."""
    return await _label_step(svc, who, label_ref, LabelWorkflow.restore, body or commands.RestoreLabel(), key)


@router.post("/labels/{label_ref}/withdrawal", summary="Withdraw a label for good")
async def withdraw(label_ref: str, body: LabelWithdrawalIn, svc: Svc, who: Officer, key: Key = None) -> LabelOut:
    return await _label_step(svc, who, label_ref, LabelWorkflow.withdraw, body, key)


@router.post(
    "/labels/{label_ref}/appeal", summary="Lodge the cluster's appeal against the label's suspension or withdrawal"
)
async def appeal(label_ref: str, body: LabelAppealIn, svc: Svc, who: Caller, key: Key = None) -> LabelOut:
    """Lodged by the cluster's contact (their own cluster's label alone), or by an officer."""
    return await _label_step(svc, who, label_ref, LabelWorkflow.lodge_appeal, body, key, "lodge an appeal")


@router.post(
    "/labels/{label_ref}/appeal/decision",
    summary="Decide the appeal (not by whoever suspended or withdrew the label, nor its auditors)",
)
async def decide_appeal(
    label_ref: str, body: LabelAppealDecisionIn, svc: Svc, who: AppealsPanel, key: Key = None
) -> LabelOut:
    return await _label_step(svc, who, label_ref, LabelWorkflow.decide_appeal, body, key)
