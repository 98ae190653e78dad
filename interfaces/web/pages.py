"""Server-rendered pages (Jinja2, no build step) and the embeddable badge.

Pages are signed in by a server-side session (signin.py: e-mail and password, or an API token posted
once); never by a token in the URL. Every form carries the session's CSRF token (render() puts
`csrf_token` in every template), checked with the Origin of every post (form_guard.py). Forms post to
/ui/... handlers that call the very same route functions as the JSON API, so a step taken from a page is
the same workflow update, with the same checks, as one taken by a script.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.case_lifecycle import CaseState
from clusterlabel.domain.invoice import InvoiceState
from clusterlabel.interfaces.logs import get_logger
from clusterlabel.interfaces.web import flash, inbox, naming, sessions
from clusterlabel.interfaces.web.auth import Principal, page_principal
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.services import Services
from clusterlabel.interfaces.web.workflow_links import WorkflowLinks

log = get_logger(__name__)
PACKAGE = Path(__file__).resolve().parents[1]
SESSION_ENDED = "Your session has ended; please sign in again."
templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
templates.env.filters["when"] = naming.readable
templates.env.filters["day"] = naming.readable_day
templates.env.filters["last_day"] = naming.readable_last_day
templates.env.filters["renewal_last_day"] = naming.renewal_last_day
templates.env.filters["words"] = naming.words


def install(api: FastAPI) -> None:
    api.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")
    serve_pages(api, ("/", home), ("/ui/dashboard", dashboard))


def serve_pages(api: FastAPI, *pages: tuple[str, Callable[[Request], Awaitable[Response]]]) -> None:
    """Serve each page (its path, its handler) on GET, as HTML and outside the API's OpenAPI document."""
    for path, endpoint in pages:
        api.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


# ---- rendering and sign-in ----------------------------------------------------------------


def _svc(request: Request) -> Services:
    return request.app.state.services


def render(
    request: Request, template: str, who: Principal | None, http_status: int = 200, **context: Any
) -> HTMLResponse:
    """The template with the caller, a flash message, and the CSRF token every form carries."""
    token = FormToken(sessions.csrf_secret(request.cookies))
    values = {
        "who": who,
        "flash": flash.taken(request),
        "csrf_token": token,
        "unread": _unread_of(request, who),
        "workflows": _workflow_links(request, who),
        **context,
    }
    response = templates.TemplateResponse(request, template, values, status_code=http_status)
    flash.spent(request, response)
    if token.presession is not None and token.shown:
        sessions.set_presession_cookie(response, token.presession, secure_cookies(request))
    return response


def count_unread(request: Request, who: Principal | None) -> int:
    """Blocking: the header's count of the caller's unopened messages, kept for render(); 0 (and a line in
    the log) when it cannot be read, so that no page fails for its header. Counted off the event loop when
    the caller is looked up (caller()), and again by a page that changes it (opening a message)."""
    unread = 0
    if who is not None:
        try:
            unread = inbox.unread_count(_svc(request), who)
        except Exception:
            log.warning("cannot count the unread messages", exc_info=True)
    request.state.unread = unread
    return unread


def _workflow_links(request: Request, who: Principal | None) -> WorkflowLinks | None:
    """Links into Temporal's Web UI are for the secretariat alone: the workflows hold every record's steps."""
    return _svc(request).workflow_links if who is not None and who.sees_everything else None


def _unread_of(request: Request, who: Principal | None) -> int:
    if who is None:
        return 0
    counted = getattr(request.state, "unread", None)
    return counted if isinstance(counted, int) else count_unread(request, who)


class FormToken:
    """The CSRF token as a template shows it. Without a session, the pre-session cookie it comes from is
    set only when a form of the page shows it: the public pages (registry, verification) set no cookie."""

    def __init__(self, secret: str | None) -> None:
        self.presession = None if secret else sessions.new_presession()
        self.value = sessions.csrf_token_for(secret or str(self.presession))
        self.shown = False

    def __str__(self) -> str:
        self.shown = True
        return self.value

    def __html__(self) -> str:  # what Jinja's autoescape asks for: hex digits need no escaping
        return str(self)


def secure_cookies(request: Request) -> bool:
    return sessions.secure_cookies(request, _svc(request).public_url)


# What a number input sends: ASCII digits only (str.isdigit() also takes "²" and "٣", which int() refuses),
# and few enough of them that int() never meets Python's 4,300-digit limit.
_FORM_INTEGER = re.compile(r"-?[0-9]{1,9}")
_FORM_DECIMAL = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,9})?")
_FORM_LOCAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")


def form_value(text: str, kind: Any = None) -> Any:
    """A form field as the API body takes it (JSON's types, which the body holds to): the words a yes/no
    button sends become booleans, a number field's digits a number. Anything else stays text, for the
    model to refuse by name."""
    kinds = {get_args(one)[0] if get_origin(one) is Annotated else one for one in (get_args(kind) or (kind,))}
    if text in ("true", "false"):
        return text == "true"
    if int in kinds and _FORM_INTEGER.fullmatch(text):
        return int(text)
    if float in kinds and _FORM_DECIMAL.fullmatch(text):
        return float(text)
    if kinds & {datetime, AwareDatetime} and _FORM_LOCAL_TIME.fullmatch(text):
        return f"{text}:00Z"  # a date-and-time field, in UTC as every page shows times
    return text


def back(request: Request, path: str, **message: str) -> Response:
    """Back to the page, which shows the message (`error=` or `ok=`) once: flash.py keeps it in a cookie,
    never in the address."""
    ((kind, text),) = message.items()
    return flash.redirect(path, "error" if kind == "error" else "ok", text, secure=secure_cookies(request))


# A place to go back to after signing in: one of our pages, by a path that no browser could read as
# another site's (no "//", backslash, scheme, control character or "..").
_SAFE_NEXT = re.compile(r"/ui/[A-Za-z0-9/_.~%=&?+-]{0,500}")


def safe_next(value: str | None) -> str | None:
    """`value` when it is a safe place to go back to after signing in, else None."""
    if value and _SAFE_NEXT.fullmatch(value) and "//" not in value and ".." not in value:
        return value
    return None


class _SignIn(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def caller(request: Request) -> Principal | None:
    """The page's caller, if signed in, and their unread count; the token store and the inbox are read off
    the event loop (they may be PostgreSQL)."""

    def look_up() -> Principal | None:
        who = page_principal(request, _svc(request))
        count_unread(request, who)
        return who

    return await run_in_threadpool(look_up)


async def signed_in(request: Request, *, admin: bool = False, expert: bool = False) -> Principal:
    """The page's caller; without a live session, the sign-in form (which brings them back here)."""
    who = await caller(request)
    if who is None:
        context: dict[str, Any] = {"next": safe_next(request.url.path) if request.method == "GET" else None}
        if request.cookies.get(sessions.COOKIE):  # a session it had has ended (expired, or signed out elsewhere)
            context["flash"] = {"kind": "error", "text": SESSION_ENDED}
        raise _SignIn(render(request, "login.html", None, 401, **context))
    if (admin and not who.sees_everything) or (expert and not who.is_expert):
        raise _SignIn(render(request, "home.html", who, 403))
    return who


def page(handler: Any) -> Any:
    """Turn sign-in redirects and API refusals into pages."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except _SignIn as sign_in:
            return sign_in.response
        except ApiError as error:
            text = error.detail if isinstance(error.detail, str) else "; ".join(p["msg"] for p in error.detail)
            response = render(
                request, "home.html", await caller(request), error.status, flash={"kind": "error", "text": text}
            )
            response.headers.update(error.headers or {})  # a 429's Retry-After
            return response

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


# ---- pages ------------------------------------------------------------------------------


@page
async def home(request: Request) -> Response:
    return render(request, "home.html", await caller(request))


UNPAID_SHOWN = 50  # the dashboard shows the unpaid invoices due first; GET /invoices?status=unpaid lists them all


def unpaid_invoices(svc: Services, now: datetime) -> list[dict[str, Any]]:
    """The unpaid invoices due first, each with its cluster's name and whether it is overdue (from the views)."""
    unpaid = svc.models.invoices(state=InvoiceState.UNPAID, limit=UNPAID_SHOWN)
    rows = []
    for invoice in unpaid:
        case = svc.models.case(invoice.case_id, now)
        cluster = case.cluster_name if case and case.cluster_name else str(invoice.cluster_id)
        rows.append({"invoice": invoice, "cluster_name": cluster, "overdue": invoice.is_overdue(now)})
    return rows


@page
async def dashboard(request: Request) -> Response:
    who = await signed_in(request, admin=True)
    svc = _svc(request)
    state = request.query_params.get("state") or None

    def gather() -> dict[str, Any]:
        svc.fresh()
        now = svc.now()
        calendar = svc.models.calendar(now, timedelta(days=90))
        chosen = state if state in CaseState.__members__.values() else None
        return {
            "counts": {
                **svc.models.dashboard(now),
                **svc.models.complaint_counts(now),
                "overdue_invoices": svc.models.overdue_invoices(now),
            },
            "unpaid": unpaid_invoices(svc, now),
            "overdue": calendar.overdue_cases,
            "expiring": calendar.expiring,
            "cases": list(reversed(svc.models.cases(now, state=chosen, limit=1000))),
            "state": chosen,
            "parked": svc.models.parked(),
        }

    gathered = await run_in_threadpool(gather)
    return render(request, "dashboard.html", who, **gathered, reconciliation=await svc.reconciliation())


def case_id_in(text: str) -> UUID:
    """A case id from a page's path; a malformed one is an unknown case."""
    try:
        return UUID(text)
    except ValueError:
        raise ApiError(404, f"no case {text!r}") from None
