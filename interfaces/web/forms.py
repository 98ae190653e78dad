"""Form posts from the pages: each calls the very same route function as the JSON API, so a step taken
from a page is the same workflow update, with the same checks, as one taken by a script. A form the step
refuses is shown again on its page, its fields as typed and the reason above them (SHOWN_AGAIN)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.base import DomainError
from clusterlabel.interfaces.logs import get_logger
from clusterlabel.interfaces.web import bodies, cases, flash, sessions
from clusterlabel.interfaces.web.access import visible_case
from clusterlabel.interfaces.web.assessment_drafts import DRAFT_ACTION, draft_fields
from clusterlabel.interfaces.web.auth import (
    Principal,
    anyone,
    certified_expert,
    expert,
    only_appeals_panel,
    only_deciders,
    only_officers,
)
from clusterlabel.interfaces.web.case_pages import case_shown, looks_again
from clusterlabel.interfaces.web.errors import ApiError, from_domain
from clusterlabel.interfaces.web.expert_pages import assessment_shown, assignments_shown, check_on_the_team
from clusterlabel.interfaces.web.pages import _svc, back, case_id_in, form_value, page, render, signed_in
from clusterlabel.interfaces.web.services import Services

log = get_logger(__name__)


def install(api: FastAPI) -> None:
    api.add_api_route("/ui/cases/{case_id}/{step:path}", case_step, methods=["POST"], include_in_schema=False)


# ---- form posts: the API's own route functions ------------------------------------------------

# Each step's route, body and the guard its route declares (auth.py): a form is let through by the same.
Guard = Callable[[Principal, Services], Principal]


def _role(guard: Callable[[Principal], Principal]) -> Guard:
    return lambda who, svc: guard(who)


def _certified(who: Principal, svc: Services) -> Principal:
    """As the API's Expert: an expert whose certification ended or was revoked takes no step (403)."""
    return certified_expert(expert(who), svc)


class _NoFields(BaseModel):
    """The form of a step whose route takes no body: nothing but its CSRF token."""

    model_config = bodies.STRICT


async def _resume(case_id: UUID, body: _NoFields, svc: Services, who: Principal, key: str | None) -> Any:
    return await cases.resume(case_id, svc, who, key)


_CASE_STEPS: dict[str, tuple[Any, Any, Guard]] = {
    "screening": (cases.screen, bodies.ScreeningIn, _role(only_officers)),
    "assignment": (cases.respond, bodies.AssignmentIn, _certified),
    "agreement": (cases.agree, bodies.AgreementIn, _role(anyone)),
    "audit-date": (cases.schedule, bodies.AuditDateIn, _role(only_officers)),
    "audit-held": (cases.audit_held, bodies.AuditHeldIn, _role(anyone)),
    "assessment": (cases.assess, None, _certified),
    "assessment/signature": (cases.sign, bodies.SignatureIn, _certified),
    "decision": (cases.decide, bodies.DecisionIn, _role(only_deciders)),
    "withdrawal": (cases.withdraw, bodies.WithdrawalIn, _role(only_officers)),
    "appeal": (cases.appeal, bodies.AppealIn, _role(anyone)),
    "appeal/decision": (cases.decide_appeal, bodies.AppealDecisionIn, _role(only_appeals_panel)),
    "resume": (_resume, _NoFields, _role(only_officers)),
}

# What a step whose name says little tells the caller once taken (the others: "<step> recorded").
_DONE = {"resume": "the case looks again at what it waits for"}


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
    drafting = step == "assessment" and form.get(DRAFT_ACTION[0]) == DRAFT_ACTION[1]
    try:
        if drafting:
            await run_in_threadpool(_save_draft, svc, case_id, who, form)
            return back(request, f"/ui/cases/{case_id}/assessment", done="draft saved: it is not submitted")
        # The caller's role first, as the API's own dependencies answer: one who may not take the step is
        # told so (403), not what was wrong with a form they had no business sending (422).
        await run_in_threadpool(guard, who, svc)  # blocking: the certification is read from the store
        body = _assessment(form) if model is None else _body(model, form)
        await _refusals_as_api_errors(route(case_id, body, svc, who, None))
        if step == "assessment" and svc.assessment_drafts is not None and who.expert_id is not None:
            await run_in_threadpool(svc.assessment_drafts.discard, case_id, who.expert_id)
    except (ValidationError, ApiError) as error:
        refused = _Refusal.of(case_id, step, form, error)
        drafted = step == "assessment" and not drafting and await _kept_as_draft(svc, who, case_id, form)
        shown = await _shown_again(request, svc, who, refused)
        return shown or back(request, f"/ui/cases/{case_id}/assessment" if drafted else done_page, error=refused.reason)
    return back(request, done_page, done=_DONE.get(step) or f"{step.replace('/', ' ').replace('-', ' ')} recorded")


def _body(model: type[BaseModel], form: Any) -> Any:
    return model.model_validate(
        # The CSRF token was checked before the handler ran (form_guard.py); it is no field of the step.
        {
            k: form_value(v, _field_kind(model, k)) if isinstance(v, str) else v
            for k, v in form.items()
            if (v != "" or k == "reason") and k != sessions.CSRF_FIELD
        }
    )


# ---- a refused form, shown again as typed ---------------------------------------------------------

# The refusals that show the form again, its fields as typed and the reason above them: the step is invalid
# (422), not allowed as the record stands (409: the case moved on, a rule refuses), or not the caller's to
# take (403). Never a 404: a record the caller may not see stays unknown, its answer as before; nor an outage
# (503) or a 429, which answer as before too (the assessment's draft keeps the expert's work, below).
SHOWN_AGAIN = frozenset({403, 409, 422})


class _Refusal(NamedTuple):
    """A form refused: its case and step, its fields as typed, the refusal's status and reason."""

    case_id: UUID
    step: str
    fields: dict[str, str]
    status: int
    reason: str

    @classmethod
    def of(cls, case_id: UUID, step: str, form: Any, error: ValidationError | ApiError) -> _Refusal:
        # As typed, but for control characters (a browser would send a NUL back as U+FFFD, which may pass).
        fields = {k: _without_controls(v) for k, v in form.items() if isinstance(v, str) and k != sessions.CSRF_FIELD}
        if isinstance(error, ValidationError):
            return cls(case_id, step, fields, 422, flash.form_errors(error))
        return cls(case_id, step, fields, error.status, _reason(error))


class _FormPage(NamedTuple):
    """The page a step's form is on, as its GET shows it: its template, what it shows (the same reads and
    checks: shown again, it tells the caller nothing the page would not), whether experts alone see it
    (pages.signed_in), and the refused form's fields as its template finds them."""

    template: str
    shown: Callable[[Request, Services, Principal], dict[str, Any]]
    experts_only: bool
    typed: Callable[[_Refusal], dict[str, Any]]
    asked: Callable[[Services, Principal, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None


_FORM_PAGES = {
    "assessment": _FormPage("assessment.html", assessment_shown, True, lambda refused: {"values": refused.fields}),
    # One answer form per proposed case.
    "assignment": _FormPage(
        "assignments.html", assignments_shown, True, lambda refused: {"typed": {str(refused.case_id): refused.fields}}
    ),
}
# Every other step's form is on the case page, one form per step.
_CASE_PAGE = _FormPage(
    "case.html", case_shown, False, lambda refused: {"typed": {refused.step: refused.fields}}, looks_again
)


async def _shown_again(request: Request, svc: Services, who: Principal, refused: _Refusal) -> Response | None:
    """The step's form page again, answering with the refusal's status: the fields as typed (an expert's 36
    scores and findings are an afternoon's work) and the reason above them. None for a refusal that shows
    no form (SHOWN_AGAIN), or a page the caller may not see: they go back where they came from, as before."""
    form_page = _FORM_PAGES.get(refused.step, _CASE_PAGE)
    if refused.status not in SHOWN_AGAIN or (form_page.experts_only and not who.is_expert):
        return None
    try:
        shown = await run_in_threadpool(form_page.shown, request, svc, who)
        if form_page.asked is not None:
            shown |= await form_page.asked(svc, who, shown)
    except ApiError:
        return None
    except Exception:  # the page could not be read (the store away): the refusal still reaches the caller
        log.warning("refused form not shown again", step=refused.step, exc_info=True)
        return None
    message = {"kind": "error", "text": refused.reason}
    return render(
        request, form_page.template, who, refused.status, **{**shown, **form_page.typed(refused), "flash": message}
    )


async def _kept_as_draft(svc: Services, who: Principal, case_id: UUID, form: Any) -> bool:
    """Keep a refused assessment as the expert's draft too, where one may be kept (not once the case moved on,
    nor by an expert who left its team): a form shown again is lost with its tab."""
    try:
        await run_in_threadpool(_save_draft, svc, case_id, who, form)
    except ApiError:
        return False
    return True


def _without_controls(value: str) -> str:
    return "".join(ch for ch in value if ch.isprintable() or ch in "\r\n\t")


def _reason(error: ApiError) -> str:
    return error.detail if isinstance(error.detail, str) else "\n".join(p["msg"] for p in error.detail)


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
    """Keep the form as the expert's draft: only a certified member of the case's team, while the case awaits
    its assessment (a draft they could not submit, of a case it is too late or too early for, would be lost work)."""
    _certified(who, svc)
    case = visible_case(svc, case_id, who)
    check_on_the_team(case, who)
    try:
        case.check_step("submit_assessment")
    except DomainError as error:
        raise from_domain(error) from None
    if svc.assessment_drafts is None:
        raise ApiError(503, "this engine keeps no drafts")
    assert who.expert_id is not None  # _certified(who, svc)
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
