"""The pages anyone may read: the public registry, a label's verification, its badge and its
certificate. Public reads count against the client's rate limit."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from clusterlabel.activities.content.wording import DEFAULT_LANGUAGE, languages
from clusterlabel.activities.documents.certificate import certificate_sheet
from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web import badge, certificates, registry
from clusterlabel.interfaces.web.common import PUBLIC_READ
from clusterlabel.interfaces.web.pages import _svc, caller, page, render, serve_pages
from clusterlabel.interfaces.web.paging import LEVELS, MOST, listing, paging
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


# A page of the registry: the CSV download holds every label that matches (the JSON, pages of 1,000), the page a slice.
REGISTRY_PAGE = MOST
STATUSES = [state.value for state in LabelState]
_COUNTRY = re.compile(registry.COUNTRY_CODE)
FILTER_CHARS = 40


@page
async def registry_page(request: Request) -> Response:
    svc = _svc(request)
    svc.public_limit.check(client_of(request))
    filters, problems = registry_filters(request.query_params)
    if problems:
        return await _refused_filters(request, problems)
    asked = paging(request, default=REGISTRY_PAGE)

    def gather() -> list[Any]:
        return svc.models.public_registry(svc.now(), **filters, limit=asked.ask, offset=asked.offset)

    entries = listing(request, asked, await run_in_threadpool(gather))
    response = render(
        request,
        "registry.html",
        await caller(request),
        entries=entries,
        country=filters["country"],
        level=filters["level"],
        status=filters["status"],
        statuses=STATUSES,
        export_query=_query(**filters),
    )
    registry.aged(response, svc)
    return response


def registry_filters(query: QueryParams) -> tuple[dict[str, str | None], list[str]]:
    """The filters as GET /registry takes them (each in any case), and a sentence for each bad one: a filter
    the downloads would refuse must not quietly match nothing (unlike the secretariat's lists, which drop
    it: this page's downloads carry its filters to other programs)."""
    country, level, status = (_given(query, name) for name in ("country", "level", "status"))
    problems = []
    if country is not None and not _COUNTRY.fullmatch(country):
        problems.append(f"country {country!r} is not a country's two-letter code (e.g. DE)")
    if level is not None and level.lower() not in LEVELS:
        problems.append(f"level {level!r} is not one of {', '.join(LEVELS)}")
    if status is not None and status.lower() not in STATUSES:
        problems.append(f"status {status!r} is not one of {', '.join(STATUSES)}")
    chosen = {
        "country": country and country.upper(),
        "level": level and level.lower(),
        "status": status and status.lower(),
    }
    return chosen, problems


def _given(query: QueryParams, name: str) -> str | None:
    """A filter as given, short enough to name in a refusal."""
    return (query.get(name) or "").strip()[:FILTER_CHARS] or None


async def _refused_filters(request: Request, problems: list[str]) -> Response:
    """The form again, saying what to choose instead, and no labels: a 422, as the downloads answer."""
    return render(
        request,
        "registry.html",
        await caller(request),
        http_status=422,
        flash={"kind": "error", "text": "; ".join(problems)},
        refused=True,
        country=request.query_params.get("country"),
        statuses=STATUSES,
    )


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
    answer = entry = successor = None
    if label and code:
        answer = await run_in_threadpool(registry.verification, svc, label, code)
    elif label:
        entry = await run_in_threadpool(badge.registry_entry, svc, label)
        if entry is None:  # the answer a wrong code gets, as the badge says: every answer names a status
            answer = await run_in_threadpool(registry.verification, svc, label, code)
        else:  # named, so that a reader following an old embed finds the label in force
            successor = await run_in_threadpool(badge.successor_of, svc, entry)
    who = await caller(request)
    response = render(
        request, "verify.html", who, label=label, code=code, answer=answer, entry=entry, successor=successor
    )
    registry.aged(response, svc)
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
