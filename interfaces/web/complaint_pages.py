"""The complaints in the browser, for the secretariat's officers: every complaint with its state (filtered
by state), and a page for each with what the complainant wrote, its deadlines, its events and the form of
its next step (office_forms.py carries the forms out through the API's own routes)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.complaint import COMPLAINT_STEPS, ComplaintOutcome, ComplaintState
from clusterlabel.interfaces.web.auth import only_officers
from clusterlabel.interfaces.web.common import history_events
from clusterlabel.interfaces.web.complaints import complaint_out, known_complaint, latest_first
from clusterlabel.interfaces.web.office_pages import form_key, record_id
from clusterlabel.interfaces.web.pages import _svc, page, render, signed_in
from clusterlabel.interfaces.web.paging import choice, listing, paging

COMPLAINT_STATES = [state.value for state in ComplaintState]


def install(api: FastAPI) -> None:
    for path, endpoint in [("/ui/complaints", complaints_page), ("/ui/complaints/{complaint_id}", complaint_page)]:
        api.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


@page
async def complaints_page(request: Request) -> Response:
    who = only_officers(await signed_in(request, admin=True))
    svc, asked = _svc(request), paging(request)
    state = choice(request, "state", COMPLAINT_STATES)

    def gather() -> list[Any]:
        rows = [complaint_out(svc, complaint) for complaint in latest_first(svc)]
        chosen = [row for row in rows if state is None or row.state.value == state]
        return chosen[asked.offset : asked.offset + asked.ask]

    rows = await run_in_threadpool(gather)
    return render(
        request, "complaints.html", who, complaints=listing(request, asked, rows), state=state, states=COMPLAINT_STATES
    )


@page
async def complaint_page(request: Request) -> Response:
    who = only_officers(await signed_in(request, admin=True))
    svc = _svc(request)
    complaint_id = record_id(request.path_params["complaint_id"], "complaint")

    def gather() -> dict[str, Any]:
        complaint = known_complaint(svc, complaint_id)
        svc.fresh()
        return {
            "complaint": complaint_out(svc, complaint),
            "text": complaint.text,
            "events": history_events(svc.models.history(complaint_id), who),
            # The one step its state allows next (the domain's table), so the page offers only that form.
            "next_step": next(
                (step for step, (states, _) in COMPLAINT_STEPS.items() if complaint.state in states), None
            ),
        }

    gathered = await run_in_threadpool(gather)
    outcomes = [outcome.value for outcome in ComplaintOutcome]
    return render(request, "complaint.html", who, **gathered, outcomes=outcomes, form_key=form_key())
