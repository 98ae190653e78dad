"""Server-rendered pages (Jinja2, no build step) and the embeddable badge.

Pages authenticate with the same tokens as the API: `?token=` once, then an HttpOnly, SameSite=Strict
cookie. Their forms post to /ui/... handlers that call the very same route functions as the JSON API,
so a step taken from a page is the same workflow update, with the same checks, as one taken by a script.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from activities.views import case_view, label_view
from domain.base import DomainError
from domain.catalogue import load_catalogue
from domain.certification_case import CaseState
from domain.label import LabelState
from interfaces.web import cases, labels
from interfaces.web.auth import COOKIE, Principal, page_principal
from interfaces.web.common import (
    PUBLIC_READ,
    VIEW_AGE_HEADER,
    case_out,
    history_events,
    label_id_from,
    label_out,
    visible_case,
    visible_label,
)
from interfaces.web.errors import ApiError, from_domain
from interfaces.web.ratelimit import client_of
from interfaces.web.schemas import (
    AgreementIn,
    AppealDecisionIn,
    AppealIn,
    AssessmentIn,
    AssignmentIn,
    DecisionIn,
    ScreeningIn,
    WithdrawalIn,
)
from interfaces.web.services import Services

PACKAGE = Path(__file__).resolve().parents[1]
FLASH_CHARS = 1_000
templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
templates.env.filters["when"] = lambda at: at.strftime("%Y-%m-%d %H:%M UTC") if isinstance(at, datetime) else (at or "")


def install(api: FastAPI) -> None:
    api.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")
    for path, endpoint, methods in [
        ("/", home, ["GET"]),
        ("/ui/login", login, ["GET"]),
        ("/ui/logout", logout, ["GET"]),
        ("/ui/dashboard", dashboard, ["GET"]),
        ("/ui/cases/{case_id}", case_page, ["GET"]),
        ("/ui/assignments", assignments, ["GET"]),
        ("/ui/cases/{case_id}/assessment", assessment_form, ["GET"]),
        ("/ui/cases/{case_id}/{step:path}", case_step, ["POST"]),
        ("/ui/registry", registry_page, ["GET"]),
        ("/ui/verify", verify_page, ["GET"]),
        ("/ui/labels/{label_ref}/certificate", certificate, ["GET"]),
        ("/labels/{label_ref}/badge.svg", badge, ["GET"]),
    ]:
        badge_route = path.endswith("badge.svg")
        api.add_api_route(
            path,
            endpoint,
            methods=methods,
            include_in_schema=badge_route,
            tags=["public"],
            response_class=Response if badge_route else HTMLResponse,
            responses=PUBLIC_READ if badge_route else None,
        )


# ---- rendering and sign-in ----------------------------------------------------------------


def _svc(request: Request) -> Services:
    return request.app.state.services


def render(
    request: Request, template: str, who: Principal | None, http_status: int = 200, **context: Any
) -> HTMLResponse:
    flash = None
    if request.query_params.get("error"):
        flash = {"kind": "error", "text": request.query_params["error"]}
    elif request.query_params.get("done"):
        flash = {"kind": "ok", "text": request.query_params["done"]}
    return templates.TemplateResponse(
        request, template, {"who": who, "flash": flash, **context}, status_code=http_status
    )


class _SignIn(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def caller(request: Request) -> Principal | None:
    """The page's caller, if signed in; the token store is looked up off the event loop (it may be PostgreSQL)."""
    return await run_in_threadpool(page_principal, request, _svc(request))


async def signed_in(request: Request, *, admin: bool = False, expert: bool = False) -> Principal:
    """The page's caller; a ?token= becomes the cookie (and leaves the address bar) first."""
    token = request.query_params.get("token")
    who = await caller(request)
    if token:
        if who is None:
            raise _SignIn(
                render(
                    request,
                    "login.html",
                    None,
                    401,
                    next=request.url.path,
                    flash={"kind": "error", "text": "That token is not valid."},
                )
            )
        query = {k: v for k, v in request.query_params.items() if k != "token"}
        response = RedirectResponse(request.url.path + (f"?{urlencode(query)}" if query else ""), status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", max_age=12 * 3600)
        raise _SignIn(response)
    if who is None:
        raise _SignIn(render(request, "login.html", None, 401, next=request.url.path))
    if (admin and not who.is_admin) or (expert and not who.is_expert):
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


@page
async def login(request: Request) -> Response:
    return render(request, "login.html", None, next=request.query_params.get("next", "/ui/dashboard"))


@page
async def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


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
            "counts": svc.models.dashboard(now),
            "overdue": calendar.overdue_cases,
            "expiring": calendar.expiring,
            "cases": list(reversed(svc.models.cases(now, state=chosen, limit=1000))),
            "state": chosen,
        }

    return render(request, "dashboard.html", who, **(await run_in_threadpool(gather)))


@page
async def case_page(request: Request) -> Response:
    who = await signed_in(request)
    svc = _svc(request)
    case_id = _uuid(request.path_params["case_id"])

    def gather() -> dict[str, Any]:
        case = visible_case(svc, case_id, who)
        svc.fresh()
        return {
            "case": case_out(case_view(svc.app.policy, case, svc.now())),
            "cluster_name": svc.app.get_cluster(case.cluster_id).name,
            "events": history_events(svc.models.history(case_id), who),
        }

    return render(request, "case.html", who, **(await run_in_threadpool(gather)))


@page
async def assignments(request: Request) -> Response:
    who = await signed_in(request, expert=True)
    svc = _svc(request)

    def gather() -> list[Any]:
        svc.fresh()
        return svc.models.cases(svc.now(), expert_id=who.expert_id, limit=1000)

    return render(request, "assignments.html", who, cases=await run_in_threadpool(gather))


@page
async def assessment_form(request: Request) -> Response:
    who = await signed_in(request, expert=True)
    svc = _svc(request)
    case = await run_in_threadpool(visible_case, svc, _uuid(request.path_params["case_id"]), who)
    cluster = await run_in_threadpool(svc.app.get_cluster, case.cluster_id)
    return render(
        request,
        "assessment.html",
        who,
        case=case_out(case_view(svc.app.policy, case, svc.now())),
        cluster_name=cluster.name,
        catalogue=load_catalogue(case.catalogue_version),
        values={},
    )


@page
async def registry_page(request: Request) -> Response:
    svc = _svc(request)
    svc.public_limit.check(client_of(request))
    query = request.query_params
    country = (query.get("country") or "").strip().upper() or None
    level = query.get("level") or None
    status = query.get("status") or None

    def gather() -> list[Any]:
        return svc.models.public_registry(svc.now(), country=country, level=level, status=status)

    entries = await run_in_threadpool(gather)
    response = render(
        request,
        "registry.html",
        await caller(request),
        entries=entries,
        country=country,
        level=level,
        status=status,
        statuses=[s.value for s in LabelState],
    )
    labels.aged(response, svc)
    return response


@page
async def verify_page(request: Request) -> Response:
    svc = _svc(request)
    svc.public_limit.check(client_of(request))
    label = (request.query_params.get("label") or "").strip()[:60]
    code = (request.query_params.get("code") or "").strip()[:40]
    answer = entry = None
    if label and code:
        answer = await run_in_threadpool(labels.verification, svc, label, code)
    elif label:
        entry = await run_in_threadpool(_registry_entry, svc, label)
    response = render(request, "verify.html", await caller(request), label=label, code=code, answer=answer, entry=entry)
    labels.aged(response, svc)
    return response


@page
async def certificate(request: Request) -> Response:
    who = await signed_in(request, admin=True)
    svc = _svc(request)

    def gather() -> dict[str, Any]:
        label = visible_label(svc, label_id_from(request.path_params["label_ref"]), who)
        experts = [svc.app.get_expert(expert_id).name for expert_id in label.expert_ids]
        supersedes = svc.app.get_label(label.supersedes).label_code if label.supersedes else None
        return {
            "label": label_out(label_view(svc.app.policy, label), label, svc.now(), who),
            "experts": experts,
            "supersedes_code": supersedes,
        }

    return render(request, "certificate.html", who, base=svc.public_url, **(await run_in_threadpool(gather)))


# ---- form posts: the API's own route functions ------------------------------------------------

_CASE_STEPS: dict[str, tuple[Any, Any]] = {
    "screening": (cases.screen, ScreeningIn),
    "assignment": (cases.respond, AssignmentIn),
    "agreement": (cases.agree, AgreementIn),
    "assessment": (cases.assess, None),
    "decision": (cases.decide, DecisionIn),
    "withdrawal": (cases.withdraw, WithdrawalIn),
    "appeal": (cases.appeal, AppealIn),
    "appeal/decision": (cases.decide_appeal, AppealDecisionIn),
}


@page
async def case_step(request: Request) -> Response:
    who = await signed_in(request)
    svc = _svc(request)
    case_id = _uuid(request.path_params["case_id"])
    step = request.path_params["step"]
    if step not in _CASE_STEPS:
        raise ApiError(404, f"no step {step!r}")
    route, model = _CASE_STEPS[step]
    form = await request.form()
    back = "/ui/assignments" if who.is_expert else f"/ui/cases/{case_id}"
    form_page = f"/ui/cases/{case_id}/assessment"
    try:
        body = (
            _assessment(form)
            if model is None
            else model.model_validate({k: v for k, v in form.items() if v != "" or k == "reason"})
        )
        if who.is_admin and step in ("assignment", "assessment"):
            raise ApiError(403, "only the expert may do this, with their own token")
        if who.is_expert and step not in ("assignment", "assessment"):
            raise ApiError(403, "only the secretariat may do this")
        await _refusals_as_api_errors(route(case_id, body, svc, who, None))
    except ValidationError as error:
        # An expert's invalid assessment goes back to the form it came from, like the API's own 422.
        return _back(form_page if step == "assessment" else back, error=_form_errors(error))
    except ApiError as error:
        text = error.detail if isinstance(error.detail, str) else "; ".join(p["msg"] for p in error.detail)
        if step == "assessment" and error.status == 422:
            return _back(form_page, error=text[:FLASH_CHARS])
        return _back(back, error=text[:FLASH_CHARS])
    return _back(back, done=f"{step.replace('/', ' ')} recorded")


# What a number input sends: ASCII digits only (str.isdigit() also takes "²" and "٣", which int() refuses),
# and few enough of them that int() never meets Python's 4,300-digit limit.
_FORM_INTEGER = re.compile(r"-?[0-9]{1,9}")


def _assessment(form: Any) -> AssessmentIn:
    indicators = []
    for name, value in form.items():
        if name.startswith("score:"):
            code = name.removeprefix("score:")
            indicators.append(
                {"code": code, "score": _form_integer(value), "evidence": form.get(f"evidence:{code}", "")}
            )
    return AssessmentIn.model_validate({"indicators": indicators, "report": form.get("report", "")})


def _form_integer(value: Any) -> Any:
    """The form value as an int when it is one; otherwise as sent, for the model to refuse by name."""
    text = value.strip() if isinstance(value, str) else None
    return int(text) if text is not None and _FORM_INTEGER.fullmatch(text) else value


def _form_errors(error: ValidationError) -> str:
    # Short: it travels back in the redirect's query string, and a message never echoes the input.
    text = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_input=False))
    return text[:FLASH_CHARS]


async def _refusals_as_api_errors(step: Awaitable[Any]) -> Any:
    """The route's domain refusals, as the API would answer them, for the form to show."""
    try:
        return await step
    except DomainError as error:
        raise from_domain(error) from None


def _back(path: str, **message: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(message)}", status_code=303)


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise ApiError(404, f"no case {text!r}") from None


def _registry_entry(svc: Services, label_ref: str) -> Any:
    """The label's public entry as the registry view stands (public reads never wait for it)."""
    try:
        label_id = label_id_from(label_ref)
    except ApiError:
        return None
    return svc.models.label(label_id, svc.now())


# ---- the badge ---------------------------------------------------------------------------

_BADGE_COLOURS = {"valid": "#1b7f3b", "suspended": "#b36b00", "expired": "#8a8f98"}
_LEVEL_COLOURS = {"bronze": "#8c5a2b", "silver": "#6e7b85", "gold": "#a67c00"}


async def badge(label_ref: str, request: Request) -> Response:
    """An SVG badge with the label's level, valid-until and live status, linking to its verification page.

    Never cached for long: a suspended, withdrawn or expired label must stop showing as valid at once.
    """
    svc = _svc(request)
    svc.public_limit.check(client_of(request))
    entry = await run_in_threadpool(_registry_entry, svc, label_ref)
    if entry is None:
        status, level, until, code = "unknown", "", "", label_ref.strip().upper()[:40]
    else:
        status = "valid" if entry.status == LabelState.ACTIVE.value else entry.status
        level, until, code = entry.level, f"{entry.valid_until:%Y-%m-%d}", entry.label_code
    verify_url = f"{svc.public_url}/ui/verify?{urlencode({'label': code})}"
    svg = _badge_svg(level, status, until, verify_url)
    headers = {"Cache-Control": "no-cache, max-age=60", VIEW_AGE_HEADER: f"{svc.view_age():.1f}"}
    return Response(svg, media_type="image/svg+xml", headers=headers)


def _badge_svg(level: str, status: str, until: str, link: str) -> str:
    # html.escape quotes " and ' as well: every value below may end up inside an attribute.
    left = f"ECEI {level.capitalize()}".strip() if level else "ECEI label"
    right = f"valid until {until}" if status == "valid" else status
    left_width, right_width = 14 + 7 * len(left), 14 + 7 * len(right)
    width = left_width + right_width
    left_colour = _LEVEL_COLOURS.get(level, "#555")
    right_colour = _BADGE_COLOURS.get(status, "#b3261e")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" height="22" '
        f'role="img" aria-label="{escape(left)}: {escape(right)}">'
        f"<title>{escape(left)}: {escape(right)}</title>"
        f'<a xlink:href="{escape(link)}" href="{escape(link)}" target="_blank">'
        f'<rect width="{left_width}" height="22" rx="3" fill="{left_colour}"/>'
        f'<rect x="{left_width}" width="{right_width}" height="22" rx="3" fill="{right_colour}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="7" y="15">{escape(left)}</text><text x="{left_width + 7}" y="15">{escape(right)}</text></g></a></svg>'
    )
