"""The secretariat's statistics as a page and as its CSV download, for a signed-in member of staff (the
API's GET /statistics and /statistics.csv take a token instead). Counted as interfaces/web/exports.py does."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.interfaces.web import exports
from clusterlabel.interfaces.web.pages import _svc, page, render, signed_in
from clusterlabel.projections.statistics import COUNTS, DIMENSIONS


def install(api: FastAPI) -> None:
    api.add_api_route("/ui/statistics", statistics_page, methods=["GET"], include_in_schema=False)
    api.add_api_route("/ui/statistics.csv", statistics_csv, methods=["GET"], include_in_schema=False)


def _by(request: Request) -> str:
    """The dimensions ticked on the page's form (all of them when none was sent)."""
    ticked = request.query_params.getlist("by")
    return ",".join(ticked) if "counted" in request.query_params else exports.EVERY_DIMENSION


@page
async def statistics_page(request: Request) -> HTMLResponse:
    who = await signed_in(request, admin=True)
    svc = _svc(request)
    by = _by(request)
    dimensions, rows = await run_in_threadpool(exports.counted, svc, by)
    totals = {count: sum(getattr(row, count) for row in rows) for count in COUNTS}
    return render(
        request,
        "statistics.html",
        who,
        dimensions=dimensions,
        every_dimension=DIMENSIONS,
        counts=COUNTS,
        rows=rows,
        totals=totals,
        download=f"/ui/statistics.csv?counted=1&{'&'.join(f'by={name}' for name in dimensions)}",
    )


@page
async def statistics_csv(request: Request) -> Response:
    await signed_in(request, admin=True)
    return await run_in_threadpool(exports.statistics_download, _svc(request), _by(request))
