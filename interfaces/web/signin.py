"""Signing in to the pages: e-mail and password (with a one-time code for staff where the policy says
so), or an API token posted once; signing out; setting a password by a one-time link.

Each sign-in starts a new server-side session (sessions.py) under a new id, ending the one the browser
had, so no id chosen before sign-in survives it. Every post here passes the CSRF and Origin check
(form_guard.py) like any other form of the pages.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.interfaces.web import flash, sessions
from clusterlabel.interfaces.web.auth import (
    MACHINE_ADMIN,
    Principal,
    principal_for,
    principal_of_account,
    subject_of,
)
from clusterlabel.interfaces.web.pages import _svc, page, render, safe_next, secure_cookies
from clusterlabel.interfaces.web.passwords import password_problem
from clusterlabel.interfaces.web.ratelimit import client_of
from clusterlabel.interfaces.web.services import Services

# One answer for every refusal of a password sign-in: an unknown address, no password yet, a wrong
# one, a deactivated account or a locked one all read alike, so the page tells no one which addresses exist.
REFUSED = (
    "That e-mail address and password do not sign you in. After five failed tries sign-in pauses for "
    "15 minutes; the secretariat can send you a link to set a new password."
)
TOKEN_REFUSED = "That token is not valid."
MACHINE_TOKEN_REFUSED = (
    "Here staff sign in with a second factor, which the machine administrator's token cannot give: it opens"
    " the API only. Sign in to the pages with your own account."
)
# The address, not an account, is paused: said so, so a person who mistyped once knows it is not them.
TOO_MANY = "Too many failed sign-ins from your network address; try again in {wait} seconds."
LINK_GONE = (
    "This link does not work any more: it was used, it expired, or a newer one replaced it. "
    "Ask the secretariat for a new one."
)
SECOND_FACTOR_PATH = "/ui/login/code"


def install(api: FastAPI) -> None:
    for path, endpoint, method in [
        ("/ui/login", login_form, "GET"),
        ("/ui/login", login, "POST"),
        ("/ui/logout", logout, "POST"),
        ("/ui/password", password_form, "GET"),
        ("/ui/password", set_password, "POST"),
    ]:
        api.add_api_route(path, endpoint, methods=[method], include_in_schema=False, response_class=HTMLResponse)


def field(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def landing(who: Principal | None) -> str:
    """Where a caller goes after signing in when no (safe) page asked for them."""
    if who is not None and who.is_expert and not who.sees_everything:
        return "/ui/assignments"
    return "/ui/dashboard"


# ---- signing in and out -----------------------------------------------------------------------


@page
async def login_form(request: Request) -> Response:
    return render(request, "login.html", None, next=safe_next(request.query_params.get("next")))


@page
async def login(request: Request) -> Response:
    svc = _svc(request)
    form = await request.form()
    next_page = safe_next(field(form, "next"))
    client = client_of(request)
    wait = svc.signin_failures.wait_for(client)
    if wait is not None:
        response = render(request, "login.html", None, 429, next=next_page, flash=_error(TOO_MANY.format(wait=wait)))
        response.headers["Retry-After"] = str(wait)
        return response
    token = field(form, "token").strip()
    if token:
        who = await run_in_threadpool(principal_for, svc, token)
        if who is None:
            svc.signin_failures.failed(client)
            return render(request, "login.html", None, 401, next=next_page, flash=_error(TOKEN_REFUSED))
        if who is MACHINE_ADMIN and svc.sign_in().totp_for_staff:
            return render(request, "login.html", None, 403, next=next_page, flash=_error(MACHINE_TOKEN_REFUSED))
        return await _started(request, svc, who, subject_of(who), next_page)
    who = await run_in_threadpool(_password_holder, svc, field(form, "email"), field(form, "password"))
    if who is None or who.account_id is None:
        svc.signin_failures.failed(client)
        return render(request, "login.html", None, 401, next=next_page, flash=_error(REFUSED))
    return await _started(request, svc, who, sessions.subject_of_account(who.account_id), next_page)


async def _started(request: Request, svc: Services, who: Principal, subject: str, next_page: str | None) -> Response:
    """A session for the signed-in person; a staff account's waits for its second factor where the policy
    asks for one, whether it signed in with a password or with one of its API tokens. (The machine
    administrator has no account to enrol a factor on: where the policy asks for one, its token opens
    no page.)"""
    if svc.sign_in().totp_for_staff and who.sees_everything and who.account_id is not None:
        code_page = SECOND_FACTOR_PATH + (f"?{urlencode({'next': next_page})}" if next_page else "")
        return await run_in_threadpool(start_session, request, svc, subject, code_page, pending_factor=True)
    return await run_in_threadpool(start_session, request, svc, subject, next_page or landing(who))


def _password_holder(svc: Services, email: str, password: str) -> Principal | None:
    """The active account with this e-mail address and password; the same work whether or not it exists."""
    account_id = svc.people.account_with_email(email) if email.strip() else None
    if not svc.sign_in().passwords.check(account_id, password):
        return None
    assert account_id is not None
    return principal_of_account(svc, account_id)


def start_session(
    request: Request, svc: Services, subject: str, destination: str, *, pending_factor: bool = False
) -> Response:
    """A new session for `subject` (ending the browser's old one), and the way on to `destination`."""
    store = svc.sign_in().sessions
    store.end(request.cookies.get(sessions.COOKIE))
    store.forget_expired()
    session_id = store.start(subject, pending_factor=pending_factor)
    response = RedirectResponse(destination, status_code=303)
    sessions.set_session_cookie(response, session_id, secure_cookies(request))
    sessions.clear_presession_cookie(response, secure_cookies(request))
    return response


@page
async def logout(request: Request) -> Response:
    """End the session on the server, not only in this browser: a copy of the cookie is worth nothing after."""
    svc = _svc(request)
    await run_in_threadpool(svc.sign_in().sessions.end, request.cookies.get(sessions.COOKIE))
    response = flash.redirect("/ui/login", "ok", "Signed out.", secure=secure_cookies(request))
    sessions.clear_session_cookie(response, secure_cookies(request))
    return response


def _error(text: str) -> dict[str, str]:
    return {"kind": "error", "text": text}


# ---- setting a password by a one-time link ------------------------------------------------------


@page
async def password_form(request: Request) -> Response:
    """The form the link opens; the link is spent only when the new password is posted."""
    svc = _svc(request)
    link = request.query_params.get("link", "")
    holder = await run_in_threadpool(_link_holder, svc, link)
    response = (
        render(request, "password.html", None, link=link)
        if holder is not None
        else render(request, "password.html", None, 404, link=None, flash=_error(LINK_GONE))
    )
    response.headers["Cache-Control"] = "no-store"  # the page holds the link; no cache keeps it
    return response


@page
async def set_password(request: Request) -> Response:
    svc = _svc(request)
    form = await request.form()
    link, password = field(form, "link"), field(form, "password")
    holder = await run_in_threadpool(_link_holder, svc, link)
    if holder is None:
        return render(request, "password.html", None, 404, link=None, flash=_error(LINK_GONE))
    problem = password_problem(password, holder[1])
    if problem is None and password != field(form, "confirm"):
        problem = "the two passwords differ"
    if problem is not None:
        return render(request, "password.html", None, 422, link=link, flash=_error(problem.capitalize() + "."))
    if not await run_in_threadpool(_spend_link, svc, link, password):
        return render(request, "password.html", None, 404, link=None, flash=_error(LINK_GONE))
    return flash.redirect("/ui/login", "ok", "Your password is set; sign in with it.", secure=secure_cookies(request))


def _link_holder(svc: Services, link: str) -> tuple[UUID, str] | None:
    """The active account a live link is for, and its e-mail address."""
    account_id = svc.sign_in().links.account_for(link) if link else None
    if account_id is None or principal_of_account(svc, account_id) is None:
        return None
    person = svc.people.get(account_id)
    return None if person is None or person.email is None else (account_id, person.email)


def _spend_link(svc: Services, link: str, password: str) -> bool:
    """Use the link up and set the password; every session of the account ends (whoever had one must
    now know the new password). False when the link was spent meanwhile."""
    credentials = svc.sign_in()
    account_id = credentials.links.use(link)
    if account_id is None:
        return False
    credentials.passwords.set(account_id, password)
    credentials.sessions.end_account(account_id)
    return True
