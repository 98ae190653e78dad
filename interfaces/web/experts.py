"""An expert's record after registration: the secretariat renews or revokes their certification and
records the clusters they declare an affiliation with (which keeps them off those clusters' cases).

Each request is its command, run through `handle` directly. A revocation also takes the expert off the
open cases they were working on (a step of each case's workflow), so that each proposes another expert; an
affiliation that keeps them off a cluster's cases now takes them off that cluster's open cases the same way.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.handlers import handle
from clusterlabel.domain.affiliation import Affiliation
from clusterlabel.domain.base import NotFound
from clusterlabel.domain.command_base import Command, Envelope
from clusterlabel.domain.expert import Expert
from clusterlabel.domain.record_commands import RevokeExpertCertification
from clusterlabel.interfaces.web.access import visible_expert
from clusterlabel.interfaces.web.auth import Officer, Principal
from clusterlabel.interfaces.web.bodies import AffiliationIn, CertificationRenewalIn, QualificationIn, RevocationIn
from clusterlabel.interfaces.web.common import ERRORS, Key, creation_key
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.registration_schemas import ExpertOut
from clusterlabel.interfaces.web.registrations import expert_out, tell_waiting_cases
from clusterlabel.interfaces.web.releases import release_from_open_cases
from clusterlabel.interfaces.web.services import Services, Svc

router = APIRouter(tags=["registrations"], responses=ERRORS)


class RevocationOut(ExpertOut):
    released_from: list[UUID]


@router.post(
    "/experts/{expert_id}/certification/renewal",
    summary="Renew an expert's certification until a later date (also after a revocation)",
)
async def renew_certification(
    expert_id: UUID, body: CertificationRenewalIn, svc: Svc, who: Officer, key: Key = None
) -> ExpertOut:
    return await _made_eligible(svc, who, expert_id, body, "renewal", key, "re-certified")


@router.post(
    "/experts/{expert_id}/qualifications",
    summary="Record the training or recertification that qualifies the expert for one level until a date",
)
async def record_qualification(
    expert_id: UUID, body: QualificationIn, svc: Svc, who: Officer, key: Key = None
) -> ExpertOut:
    step = f"qualification:{body.level}:{body.until.isoformat()}"
    return await _made_eligible(svc, who, expert_id, body, step, key, f"qualified for {body.level}")


async def _made_eligible(
    svc: Services, who: Principal, expert_id: UUID, command: Command, step: str, key: str | None, what: str
) -> ExpertOut:
    """A change that may make the expert eligible where they were not: the cases waiting for one look again."""
    changed = await run_in_threadpool(_changed, svc, who, expert_id, command, _step_key(expert_id, step, key))
    await tell_waiting_cases(svc, expert_id, what)
    return changed


@router.post(
    "/experts/{expert_id}/revocation",
    summary="Revoke an expert's certification; the open cases they were working on propose another expert",
)
async def revoke(expert_id: UUID, body: RevocationIn, svc: Svc, who: Officer, key: Key = None) -> RevocationOut:
    command = RevokeExpertCertification(reason=body.reason)
    revocation_key = _step_key(expert_id, "revocation", key)  # once: without a caller's key it is a fresh one
    revoked = await run_in_threadpool(_changed, svc, who, expert_id, command, revocation_key)
    reason = f"their expert certification was revoked: {body.reason}"
    released = await release_from_open_cases(svc, who, expert_id, reason, revocation_key)
    return RevocationOut(**revoked.model_dump(), released_from=released)


@router.post(
    "/experts/{expert_id}/affiliations",
    summary="Record the expert's affiliation with a cluster (a conflict of interest on its cases); if it "
    "excludes them now, the cluster's open cases they are on or proposed for propose another expert",
)
async def declare_affiliation(
    expert_id: UUID, body: AffiliationIn, svc: Svc, who: Officer, key: Key = None
) -> ExpertOut:
    step_key = _step_key(expert_id, _affiliation_step(body), key)
    declared = await run_in_threadpool(_declared, svc, who, expert_id, body, step_key)
    held = Affiliation(body.since, body.until)
    if held.excludes_at(svc.now(), svc.app.policy.affiliation_cooling_off):
        reason = f"a conflict of interest: the expert {held.describe()}"
        await release_from_open_cases(svc, who, expert_id, reason, step_key, cluster_id=body.cluster_id)
    return declared


def _declared(svc: Services, who: Principal, expert_id: UUID, body: AffiliationIn, step_key: str) -> ExpertOut:
    visible_expert(svc, expert_id, who)  # an unknown expert is 404 before the cluster is looked at
    try:
        svc.app.get_cluster(body.cluster_id)
    except NotFound:
        raise ApiError(404, f"no cluster with id {body.cluster_id}") from None
    return _changed(svc, who, expert_id, body, step_key)


def _affiliation_step(body: AffiliationIn) -> str:
    """What tells one declared affiliation from another: the cluster, and the period where one is given
    (an undated one keeps the step it always had, so that a retry made before dates existed still matches)."""
    if body.since is None and body.until is None:
        return f"affiliation:{body.cluster_id}"
    period = "/".join(instant.isoformat() if instant else "" for instant in (body.since, body.until))
    return f"affiliation:{body.cluster_id}:{period}"


def _changed(svc: Services, who: Principal, expert_id: UUID, command: Command, step_key: str) -> ExpertOut:
    visible_expert(svc, expert_id, who)
    envelope = Envelope(actor=who.actor, key=step_key, at=svc.now())
    expert = handle(svc.app, expert_id, command, envelope)
    assert isinstance(expert, Expert)
    svc.wrote()
    return expert_out(expert)


def _step_key(expert_id: UUID, step: str, key: str | None) -> str:
    """The key an expert's step is taken under: from the caller's Idempotency-Key, else a fresh one (so
    made once a request, and passed on to whatever else the request records under it)."""
    return creation_key(f"expert:{expert_id}:{step}", key)
