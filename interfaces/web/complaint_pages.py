"""The complaints in the browser. The public's form (/ui/complaint), which lodges one through the API's own
route (rate-limited alike); and for the secretariat's officers every complaint with its state (filtered by
state), and a page for each with what the complainant wrote, its deadlines, its events and the form of its
next step (office_forms.py carries those out through the API's own routes)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.complaint import COMPLAINT_STEPS, ComplaintOutcome, ComplaintState
from clusterlabel.interfaces.web.auth import only_officers
from clusterlabel.interfaces.web.common import history_events
from clusterlabel.interfaces.web.complaint_schemas import ComplaintIn
from clusterlabel.interfaces.web.complaints import complaint_detail, complaint_out, known_complaint, lodge
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.flash import form_errors
from clusterlabel.interfaces.web.office_forms import key_of_form
from clusterlabel.interfaces.web.office_pages import form_key, record_id
from clusterlabel.interfaces.web.pages import _svc, caller, page, render, signed_in
from clusterlabel.interfaces.web.paging import choice, listing, paging
from clusterlabel.interfaces.web.ratelimit import complaint_write

COMPLAINT_STATES = [state.value for state in ComplaintState]
COMPLAINT_FIELDS = ("about", "text", "contact_email")


def install(api: FastAPI) -> None:
    for path, endpoint, methods in [
        ("/ui/complaint", complaint_form, ["GET"]),
        ("/ui/complaint", lodge_from_form, ["POST"]),
        ("/ui/complaints", complaints_page, ["GET"]),
        ("/ui/complaints/{complaint_id}", complaint_page, ["GET"]),
    ]:
        api.add_api_route(path, endpoint, methods=methods, include_in_schema=False, response_class=HTMLResponse)


# ---- the public's form -------------------------------------------------------------------------------


@page
async def complaint_form(request: Request) -> Response:
    about = request.query_params.get("about", "")[:100]  # a label's page may link here naming its code
    return render(request, "complaint_form.html", await caller(request), given={"about": about}, form_key=form_key())


@page
async def lodge_from_form(request: Request) -> Response:
    """Lodge the form's complaint through the API's route; a refusal shows the form again, as filled in."""
    complaint_write(request)
    form = await request.form()
    given = {name: str(form.get(name) or "").strip() for name in COMPLAINT_FIELDS}
    try:
        created = await lodge(
            ComplaintIn.model_validate(given), _svc(request), None, key_of_form(form.get("form_key"), None)
        )
    except (ValidationError, ApiError) as error:
        text = form_errors(error) if isinstance(error, ValidationError) else _api_error_text(error)
        flash = {"kind": "error", "text": text}
        who = await caller(request)
        return render(request, "complaint_form.html", who, 422, flash=flash, given=given, form_key=form_key())
    return render(request, "complaint_lodged.html", await caller(request), reference=created.complaint_id)


def _api_error_text(error: ApiError) -> str:
    return error.detail if isinstance(error.detail, str) else "\n".join(p["msg"] for p in error.detail)


# ---- the officers' pages -------------------------------------------------------------------------------


@page
async def complaints_page(request: Request) -> Response:
    who = only_officers(await signed_in(request, admin=True))
    svc, asked = _svc(request), paging(request)
    state = choice(request, "state", COMPLAINT_STATES)

    def gather() -> list[Any]:
        svc.fresh()
        chosen = ComplaintState(state) if state else None
        entries = svc.models.complaints(state=chosen, limit=asked.ask, offset=asked.offset)
        return [complaint_out(svc, entry) for entry in entries]

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
            "complaint": complaint_detail(svc, complaint, history_events(svc.models.history(complaint_id), who)),
            # The one step its state allows next (the domain's table), so the page offers only that form.
            "next_step": next(
                (step for step, (states, _) in COMPLAINT_STEPS.items() if complaint.state in states), None
            ),
        }

    gathered = await run_in_threadpool(gather)
    outcomes = [outcome.value for outcome in ComplaintOutcome]
    return render(request, "complaint.html", who, **gathered, outcomes=outcomes, form_key=form_key())
