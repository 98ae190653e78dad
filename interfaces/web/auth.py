"""Who is calling: the secretariat, one expert, or the public; and what each may see and do.

API calls carry `Authorization: Bearer <token>`. Pages take `?token=` once and keep it in an HttpOnly,
SameSite=Strict cookie; the JSON API does not read the cookie, so a cross-site form can never act
through it. 401 means no valid token, 403 a valid token that may not do this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.services import Services, services
from clusterlabel.interfaces.web.tokens import ADMIN, EXPERT

COOKIE = "clusterlabel_token"
SECRETARIAT_ACTOR = "secretariat"
_bearer = HTTPBearer(auto_error=False, description="the secretariat's token or an expert's token")


@dataclass(frozen=True)
class Principal:
    role: str
    expert_id: UUID | None = None
    cluster_id: UUID | None = None  # a cluster contact's own cluster

    @property
    def sees_everything(self) -> bool:
        """The secretariat (officers, deciders, the appeals panel, administrators) reads every record."""
        return self.role == ADMIN

    @property
    def is_expert(self) -> bool:
        return self.role == EXPERT

    @property
    def actor(self) -> str:
        """How the event log names this caller."""
        return f"expert:{self.expert_id}" if self.is_expert else SECRETARIAT_ACTOR

    def on_case(self, case: CertificationCase) -> bool:
        """An expert is on a case while proposed for it or on its team; a cluster contact on their cluster's cases."""
        if self.sees_everything or (self.cluster_id is not None and case.cluster_id == self.cluster_id):
            return True
        return self.expert_id is not None and (self.expert_id in case.team or case.proposed_expert_id == self.expert_id)


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, {"WWW-Authenticate": "Bearer"})


def principal_for(svc: Services, token: str | None) -> Principal | None:
    if not token:
        return None
    holder = svc.tokens.holder(token)
    return None if holder is None else Principal(holder.role, holder.expert_id)


def authenticated(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    svc: Annotated[Services, Depends(services)],
) -> Principal:
    if credentials is None:
        raise _unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    principal = principal_for(svc, credentials.credentials)
    if principal is None:
        raise _unauthorized("the bearer token is not valid")
    return principal


def secretariat(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
    if not principal.sees_everything:
        raise ApiError(403, "only the secretariat may do this")
    return principal


def expert(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
    if not principal.is_expert:
        raise ApiError(403, "only an expert may do this, with their own token")
    return principal


def page_principal(request: Request, svc: Services) -> Principal | None:
    """The caller of a page: ?token= first (then kept in the cookie), else the cookie."""
    return principal_for(svc, request.query_params.get("token") or request.cookies.get(COOKIE))


Caller = Annotated[Principal, Depends(authenticated)]
Secretariat = Annotated[Principal, Depends(secretariat)]
Expert = Annotated[Principal, Depends(expert)]
