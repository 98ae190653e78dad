"""Form posts of the secretariat's pages, the accounts pages and the cluster's portal: each calls the API's
own route function after the same guard as the route, from one table (FORMS), so that a step taken from
a page is the very request a script would send, with the same checks. (The case steps: forms.py.)

A form's fields become the route's body; the form's path names the record (and a field of the body the
route does not take as a parameter, such as an application's cluster). A refusal goes back to the page
the form is on, with its reason; nothing is recorded then. A form that opens an account shows the new
account's first token once, on the answer itself, never in an address.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, get_args, get_origin, get_type_hints
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.account import Role
from clusterlabel.domain.base import DomainError
from clusterlabel.domain.cluster import ClusterProfile
from clusterlabel.interfaces.web import (
    accounts,
    cases,
    complaints,
    experts,
    flash,
    labels,
    notifications,
    registrations,
)
from clusterlabel.interfaces.web.account_schemas import (
    AccountIn,
    ContactIn,
    DeactivationIn,
    ExpertIn,
    LanguageIn,
    RoleIn,
)
from clusterlabel.interfaces.web.auth import Principal, anyone, only_admins, only_appeals_panel, only_officers
from clusterlabel.interfaces.web.bodies import (
    AffiliationIn,
    ApplicationFormIn,
    CertificationRenewalIn,
    LabelAppealDecisionIn,
    LabelAppealIn,
    LabelWithdrawalIn,
    QualificationIn,
    RenewalIn,
    RestorationFormIn,
    RevocationIn,
    SuspensionIn,
)
from clusterlabel.interfaces.web.complaint_schemas import ComplaintClosureIn
from clusterlabel.interfaces.web.errors import ApiError, from_domain
from clusterlabel.interfaces.web.idempotency import KEY_MAX_LENGTH, KEY_PATTERN
from clusterlabel.interfaces.web.outbox_pages import OUTBOX_PAGE
from clusterlabel.interfaces.web.pages import _svc, back, form_value, page, render, safe_next, signed_in

FORM_KEY = re.compile(KEY_PATTERN)
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class FormStep:
    route: Callable[..., Any]  # the API's route function, called by its parameters' names
    body: type[BaseModel] | None  # the route's body, read from the form's fields
    guard: Callable[[Principal], Principal]  # the guard the route declares (auth.py)
    page: str  # the page the form is on, from the path's fields: a refusal goes back there
    then: str  # where a success goes, from the path's fields and the route's answer
    done: str  # what the page then says
    issues_token: bool = False  # the answer carries a new account's first token, shown once
    stays: bool = False  # a success, too, goes back to the page the form is on (a form on several pages)


COMPLAINT_PAGE = "/ui/complaints/{complaint_id}"
ACCOUNT_PAGE = "/ui/accounts/{account_id}"
FORMS: dict[str, FormStep] = {
    "/ui/clusters": FormStep(
        registrations.register_cluster,
        ClusterProfile,
        only_officers,
        "/ui/clusters",
        "/ui/clusters/{cluster_id}",
        "cluster registered",
    ),
    "/ui/clusters/{cluster_id}/contacts": FormStep(
        accounts.add_contact,
        ContactIn,
        only_officers,
        "/ui/clusters/{cluster_id}",
        "/ui/clusters/{cluster_id}",
        "contact account opened",
        issues_token=True,
    ),
    # The route itself lets an officer apply for any cluster and a contact for their own.
    "/ui/clusters/{cluster_id}/applications": FormStep(
        cases.apply, ApplicationFormIn, anyone, "/ui/clusters/{cluster_id}", "/ui/cases/{case_id}", "application opened"
    ),
    "/ui/experts": FormStep(
        registrations.register_expert,
        ExpertIn,
        only_officers,
        "/ui/experts",
        "/ui/experts/{expert_id}",
        "expert registered",
        issues_token=True,
    ),
    "/ui/experts/{expert_id}/renewal": FormStep(
        experts.renew_certification,
        CertificationRenewalIn,
        only_officers,
        "/ui/experts/{expert_id}",
        "/ui/experts/{expert_id}",
        "certification renewed",
    ),
    "/ui/experts/{expert_id}/revocation": FormStep(
        experts.revoke,
        RevocationIn,
        only_officers,
        "/ui/experts/{expert_id}",
        "/ui/experts/{expert_id}",
        "certification revoked",
    ),
    "/ui/experts/{expert_id}/qualifications": FormStep(
        experts.record_qualification,
        QualificationIn,
        only_officers,
        "/ui/experts/{expert_id}",
        "/ui/experts/{expert_id}",
        "qualification recorded",
    ),
    "/ui/experts/{expert_id}/affiliations": FormStep(
        experts.declare_affiliation,
        AffiliationIn,
        only_officers,
        "/ui/experts/{expert_id}",
        "/ui/experts/{expert_id}",
        "affiliation recorded",
    ),
    "/ui/labels/{label_ref}/suspension": FormStep(
        labels.suspend,
        SuspensionIn,
        only_officers,
        "/ui/labels/{label_ref}",
        "/ui/labels/{label_ref}",
        "label suspended",
    ),
    "/ui/labels/{label_ref}/restoration": FormStep(
        labels.restore,
        RestorationFormIn,
        only_officers,
        "/ui/labels/{label_ref}",
        "/ui/labels/{label_ref}",
        "label restored",
    ),
    "/ui/labels/{label_ref}/withdrawal": FormStep(
        labels.withdraw,
        LabelWithdrawalIn,
        only_officers,
        "/ui/labels/{label_ref}",
        "/ui/labels/{label_ref}",
        "label withdrawn",
    ),
    "/ui/labels/{label_ref}/appeal": FormStep(
        labels.appeal, LabelAppealIn, anyone, "/ui/labels/{label_ref}", "/ui/labels/{label_ref}", "appeal lodged"
    ),
    "/ui/labels/{label_ref}/appeal/decision": FormStep(
        labels.decide_appeal,
        LabelAppealDecisionIn,
        only_appeals_panel,
        "/ui/labels/{label_ref}",
        "/ui/labels/{label_ref}",
        "appeal decided",
    ),
    # The route itself lets an officer renew any label and a contact their own cluster's.
    "/ui/labels/{label_ref}/renewal": FormStep(
        labels.renew, RenewalIn, anyone, "/ui/labels/{label_ref}", "/ui/cases/{case_id}", "renewal opened"
    ),
    "/ui/complaints/{complaint_id}/acknowledgement": FormStep(
        complaints.acknowledge, None, only_officers, COMPLAINT_PAGE, COMPLAINT_PAGE, "complaint acknowledged"
    ),
    "/ui/complaints/{complaint_id}/investigation": FormStep(
        complaints.investigate, None, only_officers, COMPLAINT_PAGE, COMPLAINT_PAGE, "investigation started"
    ),
    "/ui/complaints/{complaint_id}/closure": FormStep(
        complaints.close, ComplaintClosureIn, only_officers, COMPLAINT_PAGE, COMPLAINT_PAGE, "complaint closed"
    ),
    "/ui/accounts": FormStep(
        accounts.open_account,
        AccountIn,
        only_admins,
        "/ui/accounts",
        "/ui/accounts/{account_id}",
        "account opened",
        issues_token=True,
    ),
    "/ui/accounts/{account_id}/roles": FormStep(
        accounts.grant_role, RoleIn, only_admins, ACCOUNT_PAGE, ACCOUNT_PAGE, "role granted"
    ),
    "/ui/accounts/{account_id}/roles/{role}/revocation": FormStep(
        accounts.revoke_role, None, only_admins, ACCOUNT_PAGE, ACCOUNT_PAGE, "role revoked"
    ),
    "/ui/accounts/{account_id}/deactivation": FormStep(
        accounts.deactivate, DeactivationIn, only_admins, ACCOUNT_PAGE, ACCOUNT_PAGE, "account deactivated"
    ),
    # On an administrator's account page, and on everyone's inbox for their own account.
    "/ui/accounts/{account_id}/language": FormStep(
        accounts.choose_language,
        LanguageIn,
        anyone,  # the route answers 404 to anyone but the account's owner and an administrator
        ACCOUNT_PAGE,
        ACCOUNT_PAGE,
        "messages' language chosen",
        stays=True,
    ),
    # On the outbox, beside each failed message ("Send again"); back to the list as it was filtered.
    "/ui/notifications/{notification_id}/retry": FormStep(
        notifications.retry, None, only_officers, OUTBOX_PAGE, OUTBOX_PAGE, "message queued again", stays=True
    ),
}


def install(api: FastAPI) -> None:
    for path, step in FORMS.items():
        api.add_api_route(path, _handler(step), methods=["POST"], include_in_schema=False)


def _handler(step: FormStep) -> Callable[[Request], Any]:
    async def posted(request: Request) -> Response:
        return await _post(request, step)

    posted.__name__ = f"form_{step.route.__name__}"
    return page(posted)


async def _post(request: Request, step: FormStep) -> Response:
    who = await signed_in(request)
    form = await request.form()
    fields = dict(request.path_params)
    refused_at = _local(form.get("back")) or step.page.format(**fields)
    try:
        step.guard(who)
        arguments = _arguments(step, fields, form)
        answer = await _called(step.route, arguments, who, request, key_of_form(form.get("form_key"), who))
    except ValidationError as error:
        return back(request, refused_at, error=flash.form_errors(error))
    except ApiError as error:
        # One line per problem (a refused application names every criterion it misses), shown as lines.
        text = error.detail if isinstance(error.detail, str) else "\n".join(p["msg"] for p in error.detail)
        return back(request, refused_at, error=text)
    then = step.then.format(**{**(answer.model_dump() if isinstance(answer, BaseModel) else {}), **fields})
    then = refused_at if step.stays else then
    if step.issues_token:
        return render(request, "issued.html", who, done=step.done, then=then, token=answer.token)
    return back(request, then, done=step.done)


def _arguments(step: FormStep, fields: dict[str, str], form: Any) -> dict[str, Any]:
    """The route's parameters from the path, and its body from the form and the path's other fields."""
    hints = get_type_hints(step.route)
    arguments = {name: _path_value(hints[name], name, text) for name, text in fields.items() if name in hints}
    if step.body is not None:
        given = {name: text for name, text in fields.items() if name not in hints}
        arguments["body"] = step.body.model_validate({**_form_fields(step.body, form), **given})
    return arguments


async def _called(
    route: Callable[..., Any], arguments: dict[str, Any], who: Principal, request: Request, key: str | None
) -> Any:
    """The route's answer; a blocking route runs in a worker thread, and its domain refusals answer as the
    API's error handler would answer them."""
    call = {**arguments, "svc": _svc(request), "who": who, "key": key}
    try:
        if inspect.iscoroutinefunction(route):
            return await route(**call)
        return await run_in_threadpool(lambda: route(**call))
    except DomainError as error:
        raise from_domain(error) from None


def _path_value(kind: Any, name: str, text: str) -> Any:
    """A path field as the route's parameter takes it; a malformed one is an unknown record."""
    try:
        return kind(text) if kind in (UUID, Role) else text
    except ValueError:
        raise ApiError(404, f"no {name.removesuffix('_id').replace('_', ' ')} {text!r}") from None


def _is_instant(annotation: Any) -> bool:
    """A date and time, also an optional one (`Instant | None`, whose member is Annotated)."""
    kinds = get_args(annotation) if get_origin(annotation) is not Annotated else (annotation,)
    kinds = kinds or (annotation,)
    return any(
        (get_args(kind)[0] if get_origin(kind) is Annotated else kind) in (datetime, AwareDatetime) for kind in kinds
    )


def _form_fields(model: type[BaseModel], form: Any) -> dict[str, Any]:
    """The model's fields as the form sends them: a list from repeated fields or one comma-separated
    text, a date as its midnight UTC, a checkbox's last value (after a hidden "false"); an empty field
    is left out, so that the model's default or its "field required" applies."""
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        values = [value.strip() for value in form.getlist(name) if isinstance(value, str)]
        if get_origin(field.annotation) is list:
            if name in form:
                data[name] = [part.strip() for value in values for part in value.split(",") if part.strip()]
        elif values and values[-1]:
            instant = _is_instant(field.annotation) and DATE_ONLY.fullmatch(values[-1])
            data[name] = _form_instant(name, values[-1]) if instant else form_value(values[-1], field.annotation)
    return data


def _form_instant(name: str, day: str) -> str:
    """A day typed in a form as an instant: its midnight (UTC); for an end (a field named `…until`) the next
    midnight, since an end is the first instant past it: "certified until 31 December" holds all that day
    (the pages print an end as its last day, the `last_day` filter)."""
    if name.endswith("until"):
        try:
            return f"{date.fromisoformat(day) + timedelta(days=1)}T00:00:00Z"
        except (ValueError, OverflowError):  # 30 February, or the last day there is: the model says why
            return day
    return f"{day}T00:00:00Z"


def key_of_form(value: Any, who: Principal | None) -> str | None:
    """The key the page rendered into its form: sent twice (a double click, a reload), the form is
    carried out once, as a request repeated with its Idempotency-Key is. Under its sender (the public's,
    for a form sent signed out), since no fingerprint guards it as the API's keys are guarded: a key taken
    from another caller's request finds none of their records."""
    ok = isinstance(value, str) and len(value) <= KEY_MAX_LENGTH and FORM_KEY.fullmatch(value)
    # Joined by "/", which no Idempotency-Key may hold (KEY_PATTERN): no API caller's key can stand for it.
    return "/".join(("form", who.actor if who is not None else "public", value)) if ok else None


def _local(value: Any) -> str | None:
    """Where a page may send its form back to (its hidden `back` field): a page of ours, nothing else (no
    escapes either: a browser reads `/ui/%2e%2e/` as `/ui/../`)."""
    return safe_next(value) if isinstance(value, str) and "%" not in value else None
