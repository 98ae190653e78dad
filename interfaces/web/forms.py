"""Form posts from the pages: each calls the very same route function as the JSON API, so a step taken
from a page is the same workflow update, with the same checks, as one taken by a script."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from clusterlabel.domain.base import DomainError
from clusterlabel.interfaces.web import cases, flash, sessions
from clusterlabel.interfaces.web.auth import (
    Principal,
    anyone,
    expert,
    only_appeals_panel,
    only_deciders,
    only_officers,
)
from clusterlabel.interfaces.web.errors import ApiError, from_domain
from clusterlabel.interfaces.web.pages import FLASH_CHARS, _svc, case_id_in, page, secure_cookies, signed_in
from clusterlabel.interfaces.web.schemas import (
    AgreementIn,
    AppealDecisionIn,
    AppealIn,
    AssessmentIn,
    AssignmentIn,
    DecisionIn,
    ScreeningIn,
    SignatureIn,
    WithdrawalIn,
)


def install(api: FastAPI) -> None:
    api.add_api_route("/ui/cases/{case_id}/{step:path}", case_step, methods=["POST"], include_in_schema=False)


# ---- form posts: the API's own route functions ------------------------------------------------

# Each step's route, body and the guard its route declares (auth.py): a form is let through by the same.
_CASE_STEPS: dict[str, tuple[Any, Any, Callable[[Principal], Principal]]] = {
    "screening": (cases.screen, ScreeningIn, only_officers),
    "assignment": (cases.respond, AssignmentIn, expert),
    "agreement": (cases.agree, AgreementIn, anyone),
    "assessment": (cases.assess, None, expert),
    "assessment/signature": (cases.sign, SignatureIn, expert),
    "decision": (cases.decide, DecisionIn, only_deciders),
    "withdrawal": (cases.withdraw, WithdrawalIn, only_officers),
    "appeal": (cases.appeal, AppealIn, anyone),
    "appeal/decision": (cases.decide_appeal, AppealDecisionIn, only_appeals_panel),
}


@page
async def case_step(request: Request) -> Response:
    who = await signed_in(request)
    svc = _svc(request)
    case_id = case_id_in(request.path_params["case_id"])
    step = request.path_params["step"]
    if step not in _CASE_STEPS:
        raise ApiError(404, f"no step {step!r}")
    route, model, guard = _CASE_STEPS[step]
    form = await request.form()
    back = "/ui/assignments" if who.is_expert else f"/ui/cases/{case_id}"
    form_page = f"/ui/cases/{case_id}/assessment"
    try:
        body = (
            _assessment(form)
            if model is None
            else model.model_validate(
                # The CSRF token was checked before the handler ran (form_guard.py); it is no field of the step.
                {k: v for k, v in form.items() if (v != "" or k == "reason") and k != sessions.CSRF_FIELD}
            )
        )
        guard(who)
        await _refusals_as_api_errors(route(case_id, body, svc, who, None))
    except ValidationError as error:
        # An expert's invalid assessment goes back to the form it came from, like the API's own 422.
        return _back(request, form_page if step == "assessment" else back, error=_form_errors(error))
    except ApiError as error:
        text = error.detail if isinstance(error.detail, str) else "; ".join(p["msg"] for p in error.detail)
        if step == "assessment" and error.status == 422:
            return _back(request, form_page, error=text[:FLASH_CHARS])
        return _back(request, back, error=text[:FLASH_CHARS])
    return _back(request, back, done=f"{step.replace('/', ' ')} recorded")


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


def _back(request: Request, path: str, **message: str) -> RedirectResponse:
    """Back to the page, which shows the message once (flash.py: in a cookie, never in the address)."""
    ((kind, text),) = message.items()
    return flash.redirect(path, "error" if kind == "error" else "ok", text, secure=secure_cookies(request))
