"""What the page modules share in rendering their pages: a list page, and a record's page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.pages import _svc, render, signed_in
from clusterlabel.interfaces.web.paging import Paging, listing
from clusterlabel.interfaces.web.services import Services


async def list_page(
    request: Request, who: Principal, rows_of: str, asked: Paging, gather: Callable[[], list[Any]], **shown: Any
) -> Response:
    """The list page `rows_of`.html: the rows `gather` reads (off the event loop) as `rows_of`, a page of
    them as `asked`, beside what else the page shows (its filters, their choices)."""
    rows: dict[str, Any] = {rows_of: listing(request, asked, await run_in_threadpool(gather))}
    return render(request, f"{rows_of}.html", who, **rows, **shown)


async def record_page(
    request: Request,
    template: str,
    shown: Callable[[Request, Services, Principal], dict[str, Any]],
    *,
    experts_only: bool = False,
    asked: Callable[[Services, Principal, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None,
    **also: Any,
) -> Response:
    """A signed-in reader's page (an expert's, `experts_only`): what `shown` reads (off the event loop: it
    reads the store and the views, and refuses a record the reader may not see), what `asked` then learns
    from the workflows about what was shown, beside `also`."""
    who = await signed_in(request, expert=experts_only)
    found = await run_in_threadpool(shown, request, _svc(request), who)
    if asked is not None:
        found |= await asked(_svc(request), who, found)
    return render(request, template, who, **found, **also)
