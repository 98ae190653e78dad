"""The pages anyone may read: the public registry, a label's verification, its badge and its
certificate. Public reads count against the client's rate limit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.content.wording import DEFAULT_LANGUAGE, languages
from clusterlabel.activities.documents.certificate import certificate_sheet
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web import badge, certificates, labels
from clusterlabel.interfaces.web.common import PUBLIC_READ
from clusterlabel.interfaces.web.pages import _svc, caller, page, render, serve_pages
from clusterlabel.interfaces.web.ratelimit import client_of


def install(api: FastAPI) -> None:
    serve_pages(api, ("/ui/registry", registry_page), ("/ui/verify", verify_page))
    serve_pages(api, ("/ui/labels/{label_ref}/certificate", certificate))
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
    """The certificate as a page, in the language `lang` asks for, with its PDF a click away."""
    svc = _svc(request)
    svc.public_limit.check(client_of(request))
    language = certificates.certificate_language(request.query_params.get("lang") or DEFAULT_LANGUAGE)
    who = await caller(request)
    label_ref = request.path_params["label_ref"]
    shown = await run_in_threadpool(certificates.certificate_for, svc, label_ref, who)
    return render(
        request,
        "certificate.html",
        who,
        certificate=shown,
        sheet=certificate_sheet(shown, language),
        language=language,
        languages=languages(),
        base=svc.public_url,
    )
