"""The second step of a staff member's sign-in, where the policy asks for it
(CLUSTERLABEL_REQUIRE_TOTP_FOR_STAFF): a one-time code from an authenticator app, enrolled on first use.

Between the password and the code the session is pending: it opens no page but this one. A wrong code
counts as a failed sign-in (passwords.py), so five of them lock the account as five wrong passwords do.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.interfaces.web import sessions
from clusterlabel.interfaces.web.auth import principal_of_account
from clusterlabel.interfaces.web.pages import _svc, page, render, safe_next
from clusterlabel.interfaces.web.second_factors import provisioning_uri
from clusterlabel.interfaces.web.services import Services
from clusterlabel.interfaces.web.signin import REFUSED, SECOND_FACTOR_PATH, field, landing, start_session

WRONG_CODE = "That code is not right (or was used already); wait for the next one and try again."


def install(api: FastAPI) -> None:
    api.add_api_route(SECOND_FACTOR_PATH, code_form, methods=["GET"], include_in_schema=False)
    api.add_api_route(SECOND_FACTOR_PATH, code, methods=["POST"], include_in_schema=False)


@dataclass(frozen=True)
class Pending:
    account_id: UUID
    enrolled: bool
    secret: str | None  # shown while enrolling, once per sign-in until confirmed
    uri: str | None


def _pending(svc: Services, session_id: str | None) -> Pending | None:
    """The account whose sign-in waits for its code (None without such a session), enrolling if need be."""
    session = svc.sign_in().sessions.resolve(session_id)
    if session is None or not session.pending_factor or session.account_id is None:
        return None
    factors = svc.sign_in().second_factors
    if factors.enrolled(session.account_id):
        return Pending(session.account_id, True, None, None)
    secret = factors.pending_secret(session.account_id)
    person = svc.people.get(session.account_id)
    name = person.email if person and person.email else str(session.account_id)
    return Pending(session.account_id, False, secret, provisioning_uri(secret, name))


@page
async def code_form(request: Request) -> Response:
    svc = _svc(request)
    pending = await run_in_threadpool(_pending, svc, request.cookies.get(sessions.COOKIE))
    if pending is None:
        return RedirectResponse("/ui/login", status_code=303)
    return _page(request, pending, safe_next(request.query_params.get("next")))


def _page(
    request: Request, pending: Pending, next_page: str | None, http_status: int = 200, error: str | None = None
) -> HTMLResponse:
    response = render(
        request,
        "second_factor.html",
        None,
        http_status,
        pending=pending,
        next=next_page,
        **({"flash": {"kind": "error", "text": error}} if error else {}),
    )
    response.headers["Cache-Control"] = "no-store"  # an enrolment page shows the secret
    return response


@page
async def code(request: Request) -> Response:
    svc = _svc(request)
    session_id = request.cookies.get(sessions.COOKIE)
    pending = await run_in_threadpool(_pending, svc, session_id)
    if pending is None:
        return RedirectResponse("/ui/login", status_code=303)
    form = await request.form()
    next_page = safe_next(field(form, "next"))
    verdict = await run_in_threadpool(_check, svc, pending, field(form, "code"))
    if verdict == "locked":
        await run_in_threadpool(svc.sign_in().sessions.end, session_id)
        return render(request, "login.html", None, 401, flash={"kind": "error", "text": REFUSED})
    if verdict == "wrong":
        return _page(request, pending, next_page, 401, WRONG_CODE)
    who = await run_in_threadpool(principal_of_account, svc, pending.account_id)
    destination = next_page or landing(who)
    subject = sessions.subject_of_account(pending.account_id)
    # A new id for the full session: the pending one's id is not promoted.
    return await run_in_threadpool(start_session, request, svc, subject, destination)


def _check(svc: Services, pending: Pending, code: str) -> str:
    """The verdict on a code: ok, wrong (counted as a failed sign-in) or locked (too many failures)."""
    credentials = svc.sign_in()
    if credentials.passwords.locked(pending.account_id):
        return "locked"
    if credentials.second_factors.verify(pending.account_id, code, enrolling=not pending.enrolled):
        return "ok"
    credentials.passwords.failed(pending.account_id)
    return "locked" if credentials.passwords.locked(pending.account_id) else "wrong"
