"""The secretariat's lists and its search box: every case and every label, filtered and paged in the
database, and one box that finds a cluster by name, a case by the start of its id or its cluster's name,
and a label by its code (ECEI-…)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.label_lifecycle import LabelState
from clusterlabel.interfaces.web.pages import _svc, page, render, signed_in
from clusterlabel.interfaces.web.paging import LEVELS, STATES, Paging, choice, listing, paging, text

LABEL_STATUSES = [state.value for state in LabelState]
FOUND = 10  # of each kind the search shows; its list has the rest


def install(api: FastAPI) -> None:
    for path, endpoint in [
        ("/ui/cases", cases_page),
        ("/ui/labels", labels_page),
        ("/ui/search", search_page),
    ]:
        api.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


@page
async def cases_page(request: Request) -> Response:
    who = await signed_in(request, admin=True)
    svc, asked, query = _svc(request), paging(request), text(request)
    state, level = choice(request, "state", STATES), choice(request, "level", LEVELS)

    def gather() -> list[Any]:
        svc.fresh()
        return svc.models.cases(svc.now(), state=state, level=level, text=query, limit=asked.ask, offset=asked.offset)

    rows = await run_in_threadpool(gather)
    return render(
        request,
        "cases.html",
        who,
        cases=listing(request, asked, rows),
        q=query,
        state=state,
        level=level,
        states=STATES,
        levels=LEVELS,
    )


@page
async def labels_page(request: Request) -> Response:
    who = await signed_in(request, admin=True)
    svc, asked, query = _svc(request), paging(request), text(request)
    status, level = choice(request, "status", LABEL_STATUSES), choice(request, "level", LEVELS)

    def gather() -> list[Any]:
        svc.fresh()
        return svc.models.public_registry(
            svc.now(), status=status, level=level, text=query, limit=asked.ask, offset=asked.offset
        )

    rows = await run_in_threadpool(gather)
    return render(
        request,
        "labels.html",
        who,
        labels=listing(request, asked, rows),
        q=query,
        status=status,
        level=level,
        statuses=LABEL_STATUSES,
        levels=LEVELS,
    )


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
