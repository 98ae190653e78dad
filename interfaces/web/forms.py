"""Form posts from the pages: each calls the very same route function as the JSON API, so a step taken
from a page is the same workflow update, with the same checks, as one taken by a script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.base import DomainError
from clusterlabel.interfaces.web import bodies, cases, flash, sessions
from clusterlabel.interfaces.web.access import visible_case
from clusterlabel.interfaces.web.assessment_drafts import DRAFT_ACTION, draft_fields
from clusterlabel.interfaces.web.auth import (
    Principal,
    anyone,
    expert,
    only_appeals_panel,
    only_deciders,
    only_officers,
)
from clusterlabel.interfaces.web.errors import ApiError, from_domain
from clusterlabel.interfaces.web.pages import _svc, back, case_id_in, form_value, page, signed_in
from clusterlabel.interfaces.web.services import Services


def install(api: FastAPI) -> None:
    api.add_api_route("/ui/cases/{case_id}/{step:path}", case_step, methods=["POST"], include_in_schema=False)


# ---- form posts: the API's own route functions ------------------------------------------------

# Each step's route, body and the guard its route declares (auth.py): a form is let through by the same.
_CASE_STEPS: dict[str, tuple[Any, Any, Callable[[Principal], Principal]]] = {
    "screening": (cases.screen, bodies.ScreeningIn, only_officers),
    "assignment": (cases.respond, bodies.AssignmentIn, expert),
    "agreement": (cases.agree, bodies.AgreementIn, anyone),
    "audit-date": (cases.schedule, bodies.AuditDateIn, only_officers),
    "audit-held": (cases.audit_held, bodies.AuditHeldIn, anyone),
    "assessment": (cases.assess, None, expert),
    "assessment/signature": (cases.sign, bodies.SignatureIn, expert),
    "decision": (cases.decide, bodies.DecisionIn, only_deciders),
    "withdrawal": (cases.withdraw, bodies.WithdrawalIn, only_officers),
    "appeal": (cases.appeal, bodies.AppealIn, anyone),
    "appeal/decision": (cases.decide_appeal, bodies.AppealDecisionIn, only_appeals_panel),
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
    done_page = "/ui/assignments" if who.is_expert else f"/ui/cases/{case_id}"
    if step == "assessment" and form.get(DRAFT_ACTION[0]) == DRAFT_ACTION[1]:
        try:
            await run_in_threadpool(_save_draft, svc, case_id, who, form)
        except ApiError as error:  # a draft refused goes back to the form, as an invalid assessment does
            back_to = f"/ui/cases/{case_id}/assessment" if error.status == 422 else done_page
            return back(request, back_to, error=str(error.detail))
        return back(request, f"/ui/cases/{case_id}/assessment", done="draft saved: it is not submitted")
    try:
        body = (
            _assessment(form)
            if model is None
            else model.model_validate(
                # The CSRF token was checked before the handler ran (form_guard.py); it is no field of the step.
                {
                    k: form_value(v, _field_kind(model, k)) if isinstance(v, str) else v
                    for k, v in form.items()
                    if (v != "" or k == "reason") and k != sessions.CSRF_FIELD
                }
            )
        )
        guard(who)
        await _refusals_as_api_errors(route(case_id, body, svc, who, None))
        if step == "assessment" and svc.assessment_drafts is not None and who.expert_id is not None:
            await run_in_threadpool(svc.assessment_drafts.discard, case_id, who.expert_id)
    except ValidationError as error:
        if step == "assessment":
            return await _kept_as_draft(request, svc, case_id, who, form, flash.form_errors(error), done_page)
        return back(request, done_page, error=flash.form_errors(error))
    except ApiError as error:
        text = error.detail if isinstance(error.detail, str) else "\n".join(p["msg"] for p in error.detail)
        if step == "assessment":
            return await _kept_as_draft(request, svc, case_id, who, form, text, done_page)
        return back(request, done_page, error=text)
    return back(request, done_page, done=f"{step.replace('/', ' ').replace('-', ' ')} recorded")


async def _kept_as_draft(
    request: Request, svc: Services, case_id: UUID, who: Principal, form: Any, error: str, done_page: str
) -> Response:
    """A refused assessment goes back to its form with what the expert typed kept as their draft (why: 36
    scores and their findings are an afternoon's work); where the case is not theirs to assess (it moved on,
    the expert left its team), to where they came from, saying why it was refused. A draft too long to keep,
    or an engine that keeps none, still goes back to the form with the refusal."""
    try:
        await run_in_threadpool(_save_draft, svc, case_id, who, form)
    except ApiError as refused:
        if refused.status in (403, 404, 409):  # not theirs to assess (any more): no form to go back to
            return back(request, done_page, error=error)
    return back(request, f"/ui/cases/{case_id}/assessment", error=error)


def _assessment(form: Any) -> bodies.AssessmentIn:
    indicators = []
    summaries = []
    for name, value in form.items():
        if name.startswith("score:"):
            code = name.removeprefix("score:")
            indicators.append(
                {
                    "code": code,
                    "score": form_value(value.strip(), int) if isinstance(value, str) else value,
                    **{field: form.get(f"{field}:{code}", "") for field in ("evidence", "finding", "recommendation")},
                }
            )
        elif name.startswith("summary:") and isinstance(value, str) and value.strip():
            summaries.append({"code": name.removeprefix("summary:"), "summary": value})
    whole = {
        field: form.get(field, "") for field in ("report", "strengths", "areas_for_improvement", "success_stories")
    }
    validation = _validation(form)
    return bodies.AssessmentIn.model_validate(
        {
            "indicators": indicators,
            "area_summaries": summaries,
            **whole,
            **({"validation": validation} if validation else {}),
        }
    )


def _validation(form: Any) -> dict[str, Any] | None:
    """A Silver case's verdicts, from the form's radio buttons (`area:<code>`, `requirement:<code>`) and findings;
    None when the form has none (every other level's)."""
    areas = [
        {
            "area": name.removeprefix("area:"),
            "validated": value == "validated",
            "finding": form.get(f"area_finding:{name[5:]}", ""),
        }
        for name, value in form.items()
        if name.startswith("area:")
    ]
    requirements = [
        {"code": name[12:], "met": value == "met", "finding": form.get(f"requirement_finding:{name[12:]}", "")}
        for name, value in form.items()
        if name.startswith("requirement:")
    ]
    if not areas and not requirements and "recommendations" not in form:
        return None
    return {"areas": areas, "requirements": requirements, "recommendations": form.get("recommendations", "")}


def _save_draft(svc: Services, case_id: UUID, who: Principal, form: Any) -> None:
    """Keep the form as the expert's draft: only a member of the case's team, while the case awaits its
    assessment (a draft of a case it is too late or too early for would be lost work)."""
    expert(who)
    case = visible_case(svc, case_id, who)
    if who.expert_id not in case.team:
        raise ApiError(403, f"expert {who.expert_id} is not on this case's team and cannot assess it")
    try:
        case.check_step("submit_assessment")
    except DomainError as error:
        raise from_domain(error) from None
    if svc.assessment_drafts is None:
        raise ApiError(503, "this engine keeps no drafts")
    assert who.expert_id is not None  # expert(who)
    svc.assessment_drafts.save(case_id, who.expert_id, draft_fields(form))


async def _refusals_as_api_errors(step: Awaitable[Any]) -> Any:
    """The route's domain refusals, as the API would answer them, for the form to show."""
    try:
        return await step
    except DomainError as error:
        raise from_domain(error) from None


def _field_kind(model: type[BaseModel], name: str) -> Any:
    """The type the body's field holds, for the form's text to be read as (a number field's digits)."""
    field = model.model_fields.get(name)
    return None if field is None else field.annotation
