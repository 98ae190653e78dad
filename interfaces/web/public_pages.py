"""The pages anyone may read: the public registry, a label's verification, its badge; and a label's
certificate for whoever sees the label. Public reads count against the client's rate limit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.views import label_view
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web import badge, labels
from clusterlabel.interfaces.web.access import visible_label
from clusterlabel.interfaces.web.common import PUBLIC_READ, label_id_from, label_out
from clusterlabel.interfaces.web.pages import _svc, caller, page, render, signed_in
from clusterlabel.interfaces.web.ratelimit import client_of


def install(api: FastAPI) -> None:
    for path, endpoint in [
        ("/ui/registry", registry_page),
        ("/ui/verify", verify_page),
        ("/ui/labels/{label_ref}/certificate", certificate),
    ]:
        api.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
    api.add_api_route(
        "/labels/{label_ref}/badge.svg",
        badge.badge,
        methods=["GET"],
        tags=["public"],
        response_class=Response,
        responses=PUBLIC_READ,
    )


@page
async def registry_page(request: Request) -> Response:
    svc = _svc(request)
    svc.public_limit.check(client_of(request))
    query = request.query_params
    country = (query.get("country") or "").strip().upper() or None
    level = query.get("level") or None
    status = query.get("status") or None

    def gather() -> list[Any]:
        return svc.models.public_registry(svc.now(), country=country, level=level, status=status)

    entries = await run_in_threadpool(gather)
    response = render(
        request,
        "registry.html",
        await caller(request),
        entries=entries,
        country=country,
        level=level,
        status=status,
        statuses=[s.value for s in LabelState],
        export_query=_query(country=country, level=level, status=status),
    )
    labels.aged(response, svc)
    return response


def _query(**filters: str | None) -> str:
    """The page's filters as the downloads' query string, so that a download holds what the page lists."""
    given = {name: value for name, value in filters.items() if value}
    return "?" + urlencode(given) if given else ""


@page
async def verify_page(request: Request) -> Response:
    svc = _svc(request)
    svc.public_limit.check(client_of(request))
    label = (request.query_params.get("label") or "").strip()[:60]
    code = (request.query_params.get("code") or "").strip()[:40]
    answer = entry = None
    if label and code:
        answer = await run_in_threadpool(labels.verification, svc, label, code)
    elif label:
        entry = await run_in_threadpool(badge.registry_entry, svc, label)
    response = render(request, "verify.html", await caller(request), label=label, code=code, answer=answer, entry=entry)
    labels.aged(response, svc)
    return response


@page
async def certificate(request: Request) -> Response:
    who = await signed_in(request)  # whoever sees the label: visible_label decides
    svc = _svc(request)

    def gather() -> dict[str, Any]:
        label = visible_label(svc, label_id_from(request.path_params["label_ref"]), who)
        experts = [svc.app.get_expert(expert_id).name for expert_id in label.expert_ids]
        supersedes = svc.app.get_label(label.supersedes).label_code if label.supersedes else None
        return {
            "label": label_out(label_view(svc.app.policy, label), label, svc.now(), who),
            "experts": experts,
            "supersedes_code": supersedes,
        }

    return render(request, "certificate.html", who, base=svc.public_url, **(await run_in_threadpool(gather)))
