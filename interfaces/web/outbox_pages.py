"""The outbox as a page (/ui/notifications), for the administrators and officers who read it on the API
(GET /notifications): every message the engine sends, the latest first, by status and by case, each
with its recipient's name and why it failed; an officer sends a failed one again from it ("Send again",
which office_forms.py carries out through the API's own retry).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.notification import DeliveryStatus
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.naming import recipient_names
from clusterlabel.interfaces.web.notifications import secretariat_reader
from clusterlabel.interfaces.web.office_pages import actions, form_key
from clusterlabel.interfaces.web.pages import _svc, page, render, serve_pages, signed_in
from clusterlabel.interfaces.web.paging import Choice, listing, paging

OUTBOX_PAGE = "/ui/notifications"
STATUSES = [status.value for status in DeliveryStatus]
SHOWN_OF_A_WRONG_VALUE = 40  # characters of a mistyped filter repeated in the refusal


def install(api: FastAPI) -> None:
    serve_pages(api, (OUTBOX_PAGE, outbox_page))


@page
async def outbox_page(request: Request) -> Response:
    # A cluster's contact or an expert is refused as on every secretariat page, told nothing of the outbox;
    # the rest of the secretariat (a decider) hears why, as the API tells them.
    who = secretariat_reader(await signed_in(request, admin=True))
    status, case_id = _status(request), _case_id(request)
    svc, asked = _svc(request), paging(request)

    def gather() -> dict[str, Any]:
        svc.fresh()  # a message just sent again is listed as queued at once
        chosen = DeliveryStatus(status) if status else None
        found = svc.models.messages(status=chosen, case_id=case_id, limit=asked.ask, offset=asked.offset)
        return {
            "messages": listing(request, asked, found),
            "named": recipient_names(svc, (message.recipient for message in found)),
        }

    shown: dict[str, Any] = {"choices": [Choice("status", STATUSES, status, "status")], "case_id": case_id}
    gathered = await run_in_threadpool(gather)
    here = f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path  # "Send again" returns
    return render(request, "outbox.html", who, **gathered, **shown, here=here, form_key=form_key(), **actions(who))


def _status(request: Request) -> str | None:
    """The status asked for. Unlike the other lists' filters, an unknown one is refused (422, as the API
    refuses it) rather than ignored: an address typed as `?status=faild` must not list every message under
    a heading its reader takes for the failed ones."""
    given = request.query_params.get("status") or None
    if given is not None and given not in STATUSES:
        raise ApiError(422, f"no status {given[:SHOWN_OF_A_WRONG_VALUE]!r}: choose {', '.join(STATUSES)}")
    return given


def _case_id(request: Request) -> UUID | None:
    given = (request.query_params.get("case_id") or "").strip()
    if not given:
        return None
    try:
        return UUID(given)
    except ValueError:
        raise ApiError(422, f"{given[:SHOWN_OF_A_WRONG_VALUE]!r} is not a case's id") from None
