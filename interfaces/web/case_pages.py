"""A case's page: where it stands, the deadline it works against now, its details and evidence, and its
timeline. Whoever sees the case reads it (access.visible_case); the steps on it post to forms.py."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from clusterlabel.activities.views import case_view
from clusterlabel.domain.account import Role
from clusterlabel.interfaces.web.access import reads_evidence, visible_case
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.case_details import case_details, evidence_section, no_conflict_declared
from clusterlabel.interfaces.web.common import case_out, for_the_reader
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.message_history import case_events
from clusterlabel.interfaces.web.page_serving import record_page
from clusterlabel.interfaces.web.pages import case_id_in, page, serve_pages
from clusterlabel.interfaces.web.services import Services
from clusterlabel.interfaces.web.steps import waits_for_help
from clusterlabel.workflows.starter import case_handle


def install(api: FastAPI) -> None:
    serve_pages(api, ("/ui/cases/{case_id}", case_page))


@page
async def case_page(request: Request) -> Response:
    return await record_page(request, "case.html", case_shown, asked=looks_again)


async def looks_again(svc: Services, who: Principal, shown: dict[str, Any]) -> dict[str, Any]:
    """Whether an officer is offered "Look again" on a case that needs attention: only while its workflow
    waits to be told to (no eligible expert, an automatic step kept being refused). An overdue step's
    escalation wants the step itself, which looking again does not take."""
    case = shown["case"]
    if not (who.holds(Role.OFFICER) and case.attention):
        return {"looks_again": False}
    try:
        handle = case_handle(svc.temporal(), case.case_id)
    except ApiError:  # the engine still starting: it cannot say, and the button is the way out
        return {"looks_again": True}
    return {"looks_again": await waits_for_help(handle)}


def case_shown(request: Request, svc: Services, who: Principal) -> dict[str, Any]:
    case_id = case_id_in(request.path_params["case_id"])
    case = visible_case(svc, case_id, who)
    svc.fresh()
    events = case_events(svc, case_id, who, case.team, reads_evidence(who, case))
    view, now = case_view(svc.app.policy, case, svc.now()), svc.now()
    due = view.deadlines.get(view.current_step) if view.current_step else None
    return {
        "case": for_the_reader(
            case_out(view).model_copy(update={"no_conflict_declared": no_conflict_declared(svc, case, now)}),
            case.decision is not None,
            who,
        ),
        # Only the deadline the case works against now: the earlier steps' are met or moot.
        "deadline": (view.current_step, due, now >= due) if due else None,
        "cluster_name": svc.app.get_cluster(case.cluster_id).name,
        "agreed_audit_mode": case.agreed_audit_mode.value if case.agreed_audit_mode else None,
        "awaiting_signatures": case.version_awaiting_signatures,
        "events": events,
        **case_details(svc, case, events),
        **evidence_section(case, who),
    }
