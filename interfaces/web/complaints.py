"""Complaints (ISO/IEC 17065 §7.13): anyone lodges one about a label or a cluster of the public registry,
without signing in; the secretariat's officers acknowledge it, investigate and close it with an outcome
(updates of the complaint's workflow), and read the complaints and each one's history.

`about` names a label by its code or a cluster by its id, as the public registry shows them: whatever it
does not show answers 422 alike, so the route tells nobody more than the registry does. The complainant's
e-mail address goes beside the log (complainants.py); the log and the messages name the complaint.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from clusterlabel.activities.complaint_handlers import check_may_decide
from clusterlabel.activities.complaints import complaint_view
from clusterlabel.activities.handlers import handle
from clusterlabel.activities.models import ComplaintView
from clusterlabel.domain import complaint_commands as commands
from clusterlabel.domain.base import NotFound
from clusterlabel.domain.command_base import SHORT_TEXT, Envelope, command_key
from clusterlabel.domain.commands import SuspendLabel
from clusterlabel.domain.complaint import Complaint, ComplaintOutcome, ComplaintState, check_complaint_step
from clusterlabel.domain.label import Label, label_id_for
from clusterlabel.domain.label_lifecycle import FINAL
from clusterlabel.interfaces.web.auth import Officer, Principal
from clusterlabel.interfaces.web.common import (
    ERRORS,
    PUBLIC_READ,
    Key,
    creation_key,
    history_events,
    is_label_code,
    public_router,
)
from clusterlabel.interfaces.web.complaint_schemas import (
    ComplaintClosureIn,
    ComplaintCreated,
    ComplaintDetailOut,
    ComplaintIn,
    ComplaintOut,
)
from clusterlabel.interfaces.web.errors import ApiError, from_temporal, invalid
from clusterlabel.interfaces.web.ratelimit import PublicWrite
from clusterlabel.interfaces.web.schemas import HistoryEvent
from clusterlabel.interfaces.web.services import Services, Svc
from clusterlabel.interfaces.web.steps import catch_up, step_envelope, take_step
from clusterlabel.interfaces.web.steps import resume as resume_workflow
from clusterlabel.projections.complaints import ComplaintEntry, ListedComplaint
from clusterlabel.workflows.complaint import ComplaintWorkflow
from clusterlabel.workflows.label import LabelWorkflow
from clusterlabel.workflows.starter import complaint_handle, label_handle, start_complaint_workflow

router = APIRouter(tags=["complaints"], responses=ERRORS)
public = public_router()
# How the log names whoever lodged a complaint: the public, never a person (their address is beside it).
PUBLIC_ACTOR = "public"
UNKNOWN_SUBJECT = (
    "about names no label or cluster of the public registry: give a label's code as its certificate "
    "prints it (ECEI-B-XXXX-XXXX-XXXX) or a cluster's id as the registry lists it"
)


# ---- the public ------------------------------------------------------------------------------------


@public.post(
    "/complaints",
    status_code=201,
    responses={429: PUBLIC_READ[429]},
    summary="Lodge a complaint about a label or a cluster of the public registry (no sign-in needed)",
)
async def lodge(body: ComplaintIn, svc: Svc, _: PublicWrite, key: Key = None) -> ComplaintCreated:
    about, cluster_id, label_id = await run_in_threadpool(registry_subject, svc, body.about)
    client = svc.temporal()
    envelope = Envelope(actor=PUBLIC_ACTOR, key=creation_key("complaint", key))
    complaint_id = Complaint.create_id(envelope.key)
    command = commands.LodgeComplaint(about=about, text=body.text, cluster_id=cluster_id, label_id=label_id)
    # The address first: the message the lodging queues may be sent before this request ends.
    await run_in_threadpool(svc.complaint_addresses().add, complaint_id, body.contact_email)
    await run_in_threadpool(handle, svc.app, complaint_id, command, envelope)
    svc.wrote()
    try:
        await start_complaint_workflow(client, complaint_id, svc.task_queue)
    except RPCError as error:  # the complaint is saved; a retry with the same key (or the reconciler) starts it
        raise from_temporal(error, "") from None
    return ComplaintCreated(complaint_id=complaint_id)


def registry_subject(svc: Services, about: str) -> tuple[str, UUID, UUID | None]:
    """What `about` names in the public registry, as the registry spells it, with its cluster and label:
    422 for a text that is neither a label code nor a cluster id (the schema's pattern says so), 404 for
    one the registry does not show (as for any record a body names that does not exist)."""
    wanted = about.strip()
    try:
        cluster_id = UUID(wanted)
    except ValueError:
        return _label_subject(svc, wanted)
    if not svc.models.public_registry(svc.now(), cluster_id=cluster_id, limit=1):
        raise ApiError(404, UNKNOWN_SUBJECT)
    return str(cluster_id), cluster_id, None


def _label_subject(svc: Services, code: str) -> tuple[str, UUID, UUID | None]:
    """A label named by the code its certificate prints: the engine's (any case), or an imported label's own."""
    if not is_label_code(code):
        raise invalid(UNKNOWN_SUBJECT, ("body", "about"))
    entry = svc.models.label(label_id_for(code), svc.now())
    if entry is None:
        raise ApiError(404, UNKNOWN_SUBJECT)
    return entry.label_code, entry.cluster_id, entry.label_id


# ---- the secretariat: reading ------------------------------------------------------------------------


@router.get("/complaints", summary="Complaints, latest first, with their state")
def list_complaints(
    svc: Svc,
    who: Officer,
    state: ComplaintState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,  # past SQLite's integers: a 422, never a 500
) -> list[ComplaintOut]:
    svc.fresh()  # a complaint just lodged is listed at once
    return [complaint_out(svc, entry) for entry in svc.models.complaints(state=state, limit=limit, offset=offset)]


@router.get("/complaints/{complaint_id}", summary="A complaint, with its events in order")
def get_complaint(complaint_id: UUID, svc: Svc, who: Officer) -> ComplaintDetailOut:
    complaint = known_complaint(svc, complaint_id)
    svc.fresh()
    return complaint_detail(svc, complaint, history_events(svc.models.history(complaint_id), who))


def known_complaint(svc: Services, complaint_id: UUID) -> Complaint:
    try:
        return svc.app.load(complaint_id, Complaint)
    except NotFound:
        raise ApiError(404, f"no complaint with id {complaint_id}") from None


def complaint_out(svc: Services, complaint: ComplaintEntry | ComplaintView) -> ComplaintOut:
    """A complaint as listed: from the complaints view, or from the view a step answered with."""
    if isinstance(complaint, ComplaintView):
        due = next((alarm.at for alarm in complaint.alarms if alarm.kind == "deadline"), None)
        escalations = len(complaint.escalations)
    else:
        due, escalations = complaint.due, complaint.escalations
    listed = {*ListedComplaint.model_fields, "outcome"}
    return ComplaintOut(
        **complaint.model_dump(include=listed),
        due=due,
        overdue=due is not None and svc.now() >= due,
        escalations=escalations,
    )


def complaint_detail(svc: Services, complaint: Complaint, events: list[HistoryEvent]) -> ComplaintDetailOut:
    view = complaint_view(svc.app.policy, complaint)
    listed = complaint_out(svc, view).model_dump()
    return ComplaintDetailOut(
        **listed, text=complaint.text, deadlines=view.deadlines, finding=view.finding, events=events
    )


# ---- the secretariat: the steps (updates of the complaint's workflow) --------------------------------


async def _complaint_step(
    svc: Services, who: Principal, complaint_id: UUID, update: Any, command: commands.ComplaintCommand, key: str | None
) -> ComplaintOut:
    complaint = await run_in_threadpool(known_complaint, svc, complaint_id)
    envelope = step_envelope(who.actor, "complaint", complaint_id, update.__name__, key)
    if complaint.has_applied(envelope.key):  # a retry: the complaint as it stands is the answer (steps.catch_up)
        await catch_up(complaint_handle(svc.temporal(), complaint_id))
        return complaint_out(svc, complaint_view(svc.app.policy, complaint))
    view: ComplaintView = await take_step(
        svc,
        complaint_handle(svc.temporal(), complaint_id),
        update,
        command,
        envelope,
        still_open=lambda: known_complaint(svc, complaint_id).is_open,
        closed_detail=lambda: f"complaint {complaint_id} is closed; it takes no more steps",
    )
    return complaint_out(svc, view)


@router.post(
    "/complaints/{complaint_id}/resume",
    summary="Have the complaint's workflow try again an automatic step the domain kept refusing",
)
async def resume(complaint_id: UUID, svc: Svc, who: Officer, key: Key = None) -> ComplaintOut:
    complaint = await run_in_threadpool(known_complaint, svc, complaint_id)
    closed = f"complaint {complaint_id} is closed; its workflow has ended"
    await resume_workflow(complaint_handle(svc.temporal(), complaint_id), closed)
    return complaint_out(svc, complaint_view(svc.app.policy, complaint))


@router.post("/complaints/{complaint_id}/acknowledgement", summary="Acknowledge it")
async def acknowledge(complaint_id: UUID, svc: Svc, who: Officer, key: Key = None) -> ComplaintOut:
    """The complainant is told that it was received, and by when its outcome is due."""
    command = commands.AcknowledgeComplaint()
    return await _complaint_step(svc, who, complaint_id, ComplaintWorkflow.acknowledge, command, key)


@router.post("/complaints/{complaint_id}/investigation", summary="Start investigating")
async def investigate(complaint_id: UUID, svc: Svc, who: Officer, key: Key = None) -> ComplaintOut:
    command = commands.StartInvestigation()
    return await _complaint_step(svc, who, complaint_id, ComplaintWorkflow.start_investigation, command, key)


@router.post(
    "/complaints/{complaint_id}/closure",
    summary="Close it with an outcome; the complainant is told the outcome and the finding",
)
async def close(complaint_id: UUID, body: ComplaintClosureIn, svc: Svc, who: Officer, key: Key = None) -> ComplaintOut:
    """The outcome `suspend` suspends the label the complaint names, as POST /labels/{ref}/suspension does,
    by the same officer, with the finding as its reason — first, and only then closes the complaint: a
    closing that fails after the suspension is retried and finds the suspension done (it is keyed by the
    complaint), while the other order could leave a closed complaint whose label was never suspended. The
    label's own rules apply: one that is not active answers 409 and nothing is recorded (close the
    complaint `upheld`, then act on the label)."""
    if body.outcome is ComplaintOutcome.SUSPEND:
        await _suspend_for(svc, who, complaint_id, body.finding)
    return await _complaint_step(svc, who, complaint_id, ComplaintWorkflow.close, body, key)


async def _suspend_for(svc: Services, who: Principal, complaint_id: UUID, finding: str) -> None:
    found = await run_in_threadpool(_suspension, svc, who, complaint_id)
    if found is None:
        return
    label, envelope = found
    handle = label_handle(svc.temporal(), label.id)
    if label.has_applied(envelope.key):  # a retried closing: the label was suspended for this complaint
        await catch_up(handle)
        return
    await take_step(
        svc,
        handle,
        LabelWorkflow.suspend,
        SuspendLabel(reason=f"upheld complaint {complaint_id}: {finding}"[:SHORT_TEXT]),
        envelope,
        still_open=lambda: svc.app.get_label(label.id).state not in FINAL,
        closed_detail=lambda: f"label {label.label_code} is no longer in force",
    )


def _suspension(svc: Services, who: Principal, complaint_id: UUID) -> tuple[Label, Envelope] | None:
    """The label a `suspend` outcome suspends and the step's envelope, keyed by the complaint so that a
    retried closing suspends once (the label then holds the key already); refused (409) while the label
    may not be suspended or the complaint not yet closed. None when there is no label (the domain
    refuses that outcome)."""
    complaint = known_complaint(svc, complaint_id)
    if complaint.label_id is None:
        return None
    label = svc.app.get_label(complaint.label_id)
    envelope = Envelope(actor=who.actor, key=command_key("label", label.id, "suspend", f"complaint-{complaint.id}"))
    if label.has_applied(envelope.key):  # a retried closing, the complaint perhaps closed by the first
        return label, envelope
    check_complaint_step("close", complaint.state)
    check_may_decide(svc.app, complaint, who.actor)  # nobody involved in the label suspends it for the complaint
    label.check_step("suspend", svc.now())
    return label, envelope
