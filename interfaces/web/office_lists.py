"""The secretariat's lists and its search box: every case and every label, filtered and paged in the
database, and one box that finds a cluster by name, a case by the start of its id or its cluster's name,
and a label by its code (ECEI-…)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web.page_serving import list_page
from clusterlabel.interfaces.web.pages import _svc, page, render, serve_pages, signed_in
from clusterlabel.interfaces.web.paging import LEVELS, STATES, Choice, Paging, choose, listing, paging, text
from clusterlabel.interfaces.web.services import Services

LABEL_STATUSES = [state.value for state in LabelState]
FOUND = 10  # of each kind the search shows; its list has the rest


def install(api: FastAPI) -> None:
    serve_pages(api, ("/ui/cases", cases_page), ("/ui/labels", labels_page), ("/ui/search", search_page))


@page
async def cases_page(request: Request) -> Response:
    filters = [choose(request, "state", STATES), choose(request, "level", LEVELS)]
    return await _office_list(request, "cases", filters, lambda svc: svc.models.cases)


@page
async def labels_page(request: Request) -> Response:
    filters = [choose(request, "status", LABEL_STATUSES), choose(request, "level", LEVELS)]
    return await _office_list(request, "labels", filters, lambda svc: svc.models.public_registry)


async def _office_list(
    request: Request, rows_of: str, filters: list[Choice], query_of: Callable[[Services], Callable[..., list[Any]]]
) -> Response:
    """The secretariat's list of `rows_of`: searched by `q`, filtered by `filters`, paged in the database
    by the query `query_of` names (it takes the filters by their names)."""
    who = await signed_in(request, admin=True)
    svc, asked, query = _svc(request), paging(request), text(request)
    chosen = {choice.name: choice.chosen for choice in filters}

    def gather() -> list[Any]:
        svc.fresh()
        return query_of(svc)(svc.now(), text=query, limit=asked.ask, offset=asked.offset, **chosen)

    return await list_page(request, who, rows_of, asked, gather, q=query, choices=filters)


@page
async def search_page(request: Request) -> Response:
    who = await signed_in(request, admin=True)
    svc, query = _svc(request), text(request)
    first = Paging(FOUND, 0)

    def gather() -> dict[str, Any]:
        if query is None:
            return {}
        svc.fresh()
        now = svc.now()
        return {
            "clusters": listing(request, first, svc.models.clusters(text=query, limit=first.ask)),
            "cases": listing(request, first, svc.models.cases(now, text=query, limit=first.ask)),
            "labels": listing(request, first, svc.models.public_registry(now, text=query, limit=first.ask)),
        }

    return render(request, "search.html", who, q=query, **(await run_in_threadpool(gather)))
