"""The public registry of labels and the verification of a certificate: anyone may read them, without a
token. They answer at once from the view as it stands, saying how far behind the log it may be
(`X-View-Age`), and are rate-limited per client address (ratelimit.py).

A label in a URL is its UUID or its printed code (ECEI-B-XXXX-XXXX-XXXX), as for the labels' own routes.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request, Response

from clusterlabel.domain.base import Level
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web.common import PUBLIC_READ, VIEW_AGE_HEADER, label_id_from, public_router
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.ratelimit import PublicRead
from clusterlabel.interfaces.web.schemas import RegistryEntryOut, VerificationOut
from clusterlabel.interfaces.web.services import Services, Svc
from clusterlabel.projections.registry import Verification, VerificationStatus

public = public_router()
COUNTRY_CODE = "^[A-Za-z]{2}$"  # a country filter, in either case (the registry page checks it the same way)
CountryFilter = Annotated[str | None, Query(min_length=2, max_length=2, pattern=COUNTRY_CODE)]


@public.get("/registry", summary="The public registry of labels", responses=PUBLIC_READ)
def registry(
    svc: Svc,
    request: Request,
    response: Response,
    _: PublicRead,
    country: CountryFilter = None,
    level: Level | None = None,
    status: LabelState | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[RegistryEntryOut]:
    aged(response, svc)
    entries = svc.models.public_registry(
        svc.now(),
        country=country,
        level=level.value if level else None,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    if len(entries) == limit:  # a full page: more may follow (RFC 8288's next link, as the page's own links do)
        after = urlencode({**request.query_params, "offset": offset + limit, "limit": limit})
        response.headers["Link"] = f'</registry?{after}>; rel="next"'
    return [RegistryEntryOut.model_validate(entry.model_dump()) for entry in entries]


@public.get("/labels/{label_ref}/verify", summary="Is this certificate genuine and valid?", responses=PUBLIC_READ)
def verify(
    label_ref: str,
    svc: Svc,
    response: Response,
    _: PublicRead,
    code: Annotated[str, Query(min_length=1, max_length=40)],
) -> VerificationOut:
    aged(response, svc)
    return verification(svc, label_ref, code)


def aged(response: Response, svc: Services) -> None:
    """Say how far behind the log the answer may be: public reads never wait for the views."""
    response.headers[VIEW_AGE_HEADER] = f"{svc.view_age():.1f}"


def verification(svc: Services, label_ref: str, code: str) -> VerificationOut:
    """Always one status and since when; an unknown label and a wrong code both answer `unknown`."""
    label_code = _label_code(svc, label_ref)
    if label_code is None:
        answer = Verification(label_code=label_ref.strip().upper(), status=VerificationStatus.UNKNOWN)
    else:
        answer = svc.models.verify_label(label_code, code, svc.now())
    return VerificationOut.read_from(
        answer, status=answer.status.value, cluster=answer.cluster_name, superseded_by=answer.superseded_by_code
    )


def _label_code(svc: Services, label_ref: str) -> str | None:
    try:
        label_id = label_id_from(label_ref)
    except ApiError:
        return None
    entry = svc.models.label(label_id, svc.now())
    return entry.label_code if entry else None
