"""What the page modules share in serving their pages: their GET routes, and a list page's rendering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.pages import render
from clusterlabel.interfaces.web.paging import Paging, listing


def serve_pages(api: FastAPI, *pages: tuple[str, Callable[[Request], Awaitable[Response]]]) -> None:
    """Serve each page (its path, its handler) on GET, as HTML and outside the API's OpenAPI document."""
    for path, endpoint in pages:
        api.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


async def list_page(
    request: Request, who: Principal, rows_of: str, asked: Paging, gather: Callable[[], list[Any]], **shown: Any
) -> Response:
    """The list page `rows_of`.html: the rows `gather` reads (off the event loop) as `rows_of`, a page of
    them as `asked`, beside what else the page shows (its filters, their choices)."""
    rows: dict[str, Any] = {rows_of: listing(request, asked, await run_in_threadpool(gather))}
    return render(request, f"{rows_of}.html", who, **rows, **shown)
