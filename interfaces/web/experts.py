"""An expert's record after registration: the secretariat renews or revokes their certification and
records the clusters they declare an affiliation with (which keeps them off those clusters' cases).

Like the registrations, each request is its command, run through `handle` directly: no workflow
orchestrates an expert's record.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import ConfigDict

from clusterlabel.activities.handlers import handle
from clusterlabel.domain import commands
from clusterlabel.domain.base import NotFound
from clusterlabel.domain.commands import Command, Envelope
from clusterlabel.domain.expert import Expert
from clusterlabel.interfaces.web.auth import Officer, Principal
from clusterlabel.interfaces.web.common import ERRORS, Key, creation_key
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.registrations import expert_out
from clusterlabel.interfaces.web.schemas import ExpertOut
from clusterlabel.interfaces.web.services import Services, services

router = APIRouter(tags=["registrations"], responses=ERRORS)
Svc = Annotated[Services, Depends(services)]
STRICT = ConfigDict(extra="forbid")


class CertificationRenewalIn(commands.RenewExpertCertification):
    model_config = STRICT


class CertificationRevocationIn(commands.RevokeExpertCertification):
    model_config = STRICT


class AffiliationIn(commands.DeclareAffiliation):
    model_config = STRICT


@router.post(
    "/experts/{expert_id}/certification/renewal",
    response_model=ExpertOut,
    summary="Renew an expert's certification until a later date (also after a revocation)",
)
def renew_certification(
    expert_id: UUID, body: CertificationRenewalIn, svc: Svc, who: Officer, key: Key = None
) -> ExpertOut:
    return _changed(svc, who, expert_id, body, "renewal", key)


@router.post(
    "/experts/{expert_id}/certification/revocation",
    response_model=ExpertOut,
    summary="Revoke an expert's certification now: they are proposed for no new case",
)
def revoke_certification(
    expert_id: UUID, body: CertificationRevocationIn, svc: Svc, who: Officer, key: Key = None
) -> ExpertOut:
    return _changed(svc, who, expert_id, body, "revocation", key)


@router.post(
    "/experts/{expert_id}/affiliations",
    response_model=ExpertOut,
    summary="Record the expert's affiliation with a cluster (a conflict of interest on its cases)",
)
def declare_affiliation(expert_id: UUID, body: AffiliationIn, svc: Svc, who: Officer, key: Key = None) -> ExpertOut:
    _load(svc, expert_id)  # an unknown expert is 404 before the cluster is looked at
    try:
        svc.app.get_cluster(body.cluster_id)
    except NotFound:
        problem = {"loc": ["body", "cluster_id"], "msg": f"no cluster with id {body.cluster_id}", "type": "not_found"}
        raise ApiError(422, [problem]) from None
    return _changed(svc, who, expert_id, body, f"affiliation:{body.cluster_id}", key)


def _changed(svc: Services, who: Principal, expert_id: UUID, command: Command, step: str, key: str | None) -> ExpertOut:
    _load(svc, expert_id)
    envelope = Envelope(actor=who.actor, key=creation_key(f"expert:{expert_id}:{step}", key), at=svc.now())
    expert = handle(svc.app, expert_id, command, envelope)
    assert isinstance(expert, Expert)
    svc.wrote()
    return expert_out(expert)


def _load(svc: Services, expert_id: UUID) -> Expert:
    try:
        return svc.app.get_expert(expert_id)
    except NotFound:
        raise ApiError(404, f"no expert with id {expert_id}") from None
