"""Registering clusters and experts: each request is its command, run through `handle` directly (no
workflow orchestrates a registration)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.handlers import handle
from clusterlabel.activities.registrations import new_id
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import NotFound
from clusterlabel.domain.cluster import ClusterProfile
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.expert import Expert, ExpertProfile
from clusterlabel.domain.record_commands import (
    CloseEligibilityReview,
    OpenAccount,
    RegisterCluster,
    RegisterExpert,
    UpdateClusterProfile,
    WaiveEligibilityCriterion,
)
from clusterlabel.interfaces.logs import get_logger
from clusterlabel.interfaces.web.access import visible_cluster, visible_expert
from clusterlabel.interfaces.web.account_schemas import ExpertIn, PersonIn
from clusterlabel.interfaces.web.accounts import check_email_free, opened
from clusterlabel.interfaces.web.auth import Caller, Officer, Principal, check_for_the_cluster
from clusterlabel.interfaces.web.bodies import ReviewClosureIn, WaiverIn
from clusterlabel.interfaces.web.common import ERRORS, Key, creation_key
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.registration_schemas import (
    AffiliationOut,
    ClusterCreated,
    ClusterOut,
    DeclarationOut,
    ExpertCreated,
    ExpertOut,
    QualificationOut,
    ReviewOut,
    TrainingOut,
    WaiverOut,
)
from clusterlabel.interfaces.web.services import Services, Svc
from clusterlabel.workflows.starter import notify_experts_changed

log = get_logger(__name__)
router = APIRouter(tags=["registrations"], responses=ERRORS)


@router.post("/clusters", status_code=201, summary="Register a cluster organisation")
def register_cluster(body: ClusterProfile, svc: Svc, who: Officer, key: Key = None) -> ClusterCreated:
    envelope = _envelope(svc, who, "cluster", key)
    command = RegisterCluster(profile=body)
    cluster = handle(svc.app, new_id(command, envelope), command, envelope)
    svc.wrote()
    return ClusterCreated(cluster_id=cluster.id)


@router.get(
    "/clusters/{cluster_id}", summary="A registered cluster (to an expert: with only the cases and labels they see)"
)
def get_cluster(cluster_id: UUID, svc: Svc, who: Caller) -> ClusterOut:
    seen = visible_cluster(svc, cluster_id, who)
    cluster = seen.cluster
    return ClusterOut(
        cluster_id=cluster.id,
        **cluster.profile.model_dump(mode="json"),
        open_cases=[case_id for case_id in cluster.open_cases if seen.shows(case_id)],
        labels={level.value: label_id for level, label_id in cluster.current_labels.items() if seen.shows(label_id)},
        waivers=[WaiverOut(criterion=criterion.value, **waiver) for criterion, waiver in cluster.waivers.items()],
        review=ReviewOut.model_validate(cluster.review) if cluster.review and seen.records is None else None,
    )


@router.put(
    "/clusters/{cluster_id}/profile", summary="Update the cluster's profile (an officer, or the cluster's own contact)"
)
def update_profile(cluster_id: UUID, body: ClusterProfile, svc: Svc, who: Caller, key: Key = None) -> ClusterOut:
    """A change that breaks an eligibility criterion while the cluster holds a label opens a review (the
    cluster's `review`) and tells the secretariat; the label stands until the review is closed."""
    if not who.holds(Role.OFFICER) and who.cluster_id is None:
        raise ApiError(403, "only an officer or the cluster's own contact updates its profile")
    visible_cluster(svc, cluster_id, who)  # a contact's other cluster, or an unknown one: 404
    check_for_the_cluster(who, "update its profile", cluster_id)  # not one it sees as the expert of its audit
    return _changed_cluster(svc, who, cluster_id, UpdateClusterProfile(profile=body), "profile", key)


@router.post(
    "/clusters/{cluster_id}/review/closure",
    summary="Close the cluster's eligibility review, saying what was decided about its labels and why",
)
def close_review(cluster_id: UUID, body: ReviewClosureIn, svc: Svc, who: Officer, key: Key = None) -> ClusterOut:
    visible_cluster(svc, cluster_id, who)
    command = CloseEligibilityReview.model_validate(body.model_dump())
    return _changed_cluster(svc, who, cluster_id, command, "review", key)


@router.post(
    "/clusters/{cluster_id}/waivers",
    summary="Waive an eligibility criterion for the cluster (a national programme, say), with the reason",
)
def waive(cluster_id: UUID, body: WaiverIn, svc: Svc, who: Officer, key: Key = None) -> ClusterOut:
    """The officer granting it is recorded with the reason; the waiver stands in for the criterion at the
    application and again at the decision."""
    visible_cluster(svc, cluster_id, who)  # an unknown cluster is a 404 before anything is recorded
    command = WaiveEligibilityCriterion.model_validate(body.model_dump())
    return _changed_cluster(svc, who, cluster_id, command, "waiver", key)


def _changed_cluster(
    svc: Services, who: Principal, cluster_id: UUID, command: Command, step: str, key: str | None
) -> ClusterOut:
    """Run one command on the cluster, keyed by its step (or the caller's key), and answer the cluster."""
    envelope = Envelope(actor=who.actor, key=creation_key(f"cluster:{cluster_id}:{step}", key), at=svc.now())
    handle(svc.app, cluster_id, command, envelope)
    svc.wrote()
    return get_cluster(cluster_id, svc, who)


@router.post("/experts", status_code=201, summary="Register a certified expert")
async def register_expert(body: ExpertIn, svc: Svc, who: Officer, key: Key = None) -> ExpertCreated:
    """The expert on the roster, and their account (role expert), whose first token the answer carries."""
    unknown = await run_in_threadpool(_unknown_affiliations, svc, body)
    if unknown:
        # A record named in the body that does not exist is 404, as anywhere (POST /applications too).
        raise ApiError(404, f"no cluster with id {body.affiliations[unknown[0]]}")
    envelope = _envelope(svc, who, "expert", key)
    command = RegisterExpert(profile=ExpertProfile.model_validate(body.model_dump(exclude={"email"})))
    expert_id = new_id(command, envelope)
    account = OpenAccount(roles=[Role.EXPERT], expert_id=expert_id)
    person = PersonIn(name=body.name, email=body.email)
    await run_in_threadpool(check_email_free, svc, body.email, new_id(account, envelope))  # before anything is recorded
    expert = await run_in_threadpool(handle, svc.app, expert_id, command, envelope)
    created = await run_in_threadpool(opened, svc, who, person, account, envelope.key)  # keyed as the expert
    await tell_waiting_cases(svc, expert.id, "registered")
    return ExpertCreated(expert_id=expert.id, token=created.token, account_id=created.account_id)


async def tell_waiting_cases(svc: Services, expert_id: UUID, what: str) -> None:
    """Nudge the cases waiting for an eligible expert to look again, once an expert was registered,
    re-certified or qualified (`what`): only a nudge, after the expert is recorded, so its failure leaves
    the answer as it is (a 500 here made clients retry a step that had succeeded).

    Nothing else wakes those cases: CaseWorkflow._wait_for_experts waits for this signal with no timer
    (each of them is escalated, so the secretariat sees them). Until a later experts_changed signal
    reaches them, they go on waiting; the warning says so.
    """
    failure: str
    if svc.client is None:
        failure = "the workflow engine is still starting"
    else:
        try:
            await notify_experts_changed(svc.client, reason=f"expert {expert_id} {what}")
            return
        except Exception as error:  # whatever went wrong, the registration stands
            failure = f"{type(error).__name__}: {error}"
    log.warning(
        "cases waiting for an expert were not told of the new one; they wait until the next experts_changed signal",
        expert_id=str(expert_id),
        error=failure,
    )


def _envelope(svc: Services, who: Principal, created: str, key: str | None) -> Envelope:
    return Envelope(actor=who.actor, key=creation_key(created, key), at=svc.now())


@router.get("/experts/{expert_id}", summary="A registered expert (the secretariat, or the expert)")
def get_expert(expert_id: UUID, svc: Svc, who: Caller) -> ExpertOut:
    return expert_out(visible_expert(svc, expert_id, who))


def expert_out(expert: Expert) -> ExpertOut:
    return ExpertOut.read_from(
        expert,
        expert_id=expert.id,
        languages=expert.profile.languages,
        revoked_at=expert.lapsed_at,
        affiliations=sorted(expert.affiliations, key=str),
        affiliation_periods=[
            AffiliationOut(cluster_id=cluster_id, since=held.since, until=held.until)
            for cluster_id, periods in sorted(expert.affiliation_periods.items(), key=lambda item: str(item[0]))
            for held in periods
        ],
        no_conflict_declared=[
            DeclarationOut(case_id=case_id, cluster_id=cluster_id, declared_at=at)
            for case_id, (cluster_id, at) in expert.conflict_declarations.items()
        ],
        qualifications=[QualificationOut(**vars(held)) for held in expert.qualifications.values()],
        trainings=[TrainingOut.model_validate(training) for training in expert.trainings],
    )


def _unknown_affiliations(svc: Services, body: ExpertProfile) -> list[int]:
    return [index for index, cluster_id in enumerate(body.affiliations) if not _cluster_exists(svc, cluster_id)]


def _cluster_exists(svc: Services, cluster_id: UUID) -> bool:
    try:
        svc.app.get_cluster(cluster_id)
    except NotFound:
        return False
    return True
