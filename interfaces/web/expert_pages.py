"""An expert's pages: their assignments (the proposals to answer, the audits to work) and a case's
assessment form. Experts alone see them (pages.signed_in); the answers post to forms.py, which shows a
refused form again through the same `*_shown` reads."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from clusterlabel.activities.case_handlers import silver_rules
from clusterlabel.activities.views import case_view
from clusterlabel.domain.catalogue_shelf import load_catalogue
from clusterlabel.interfaces.web.access import visible_case
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.common import case_out
from clusterlabel.interfaces.web.page_serving import record_page
from clusterlabel.interfaces.web.pages import case_id_in, page, serve_pages
from clusterlabel.interfaces.web.services import Services


def install(api: FastAPI) -> None:
    serve_pages(api, ("/ui/assignments", assignments), ("/ui/cases/{case_id}/assessment", assessment_form))


@page
async def assignments(request: Request) -> Response:
    return await record_page(request, "assignments.html", assignments_shown, experts_only=True)


def assignments_shown(request: Request, svc: Services, who: Principal) -> dict[str, Any]:
    """Blocking: the cases the expert is proposed for or on."""
    svc.fresh()
    return {"cases": svc.models.cases(svc.now(), expert_id=who.expert_id, limit=1000)}


@page
async def assessment_form(request: Request) -> Response:
    return await record_page(request, "assessment.html", assessment_shown, experts_only=True)


def assessment_shown(request: Request, svc: Services, who: Principal) -> dict[str, Any]:
    """Blocking: the assessment form of a case on the expert's team, its fields as last drafted."""
    case = visible_case(svc, case_id_in(request.path_params["case_id"]), who)
    drafts, expert_id = svc.assessment_drafts, who.expert_id
    catalogue = load_catalogue(case.catalogue_version)
    return {
        "case": case_out(case_view(svc.app.policy, case, svc.now())),
        "cluster_name": svc.app.get_cluster(case.cluster_id).name,
        "catalogue": catalogue,
        # A Silver case's baseline and Gold criteria, for its validation.
        "silver": silver_rules(svc.app, case, catalogue),
        "values": drafts.load(case.id, expert_id) if drafts and expert_id else {},
    }
