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
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.interfaces.web.access import visible_case
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.common import case_out
from clusterlabel.interfaces.web.errors import ApiError
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
    return await record_page(request, "assessment.html", _assessment_to_fill_in, experts_only=True)


def _assessment_to_fill_in(request: Request, svc: Services, who: Principal) -> dict[str, Any]:
    """Blocking: the form, to an expert on the case's team alone. (A refused submission is shown again by
    assessment_shown, also to an expert who has just left the team: what they typed is not lost.)"""
    case = visible_case(svc, case_id_in(request.path_params["case_id"]), who)
    check_on_the_team(case, who)
    return _assessment(svc, case, who)


def assessment_shown(request: Request, svc: Services, who: Principal) -> dict[str, Any]:
    """Blocking: the assessment form of a case the expert may see, its fields as last drafted."""
    return _assessment(svc, visible_case(svc, case_id_in(request.path_params["case_id"]), who), who)


def check_on_the_team(case: CertificationCase, who: Principal) -> None:
    """Proposed, released or declined, an expert off the team could neither save nor submit the assessment."""
    if who.expert_id not in case.team:
        raise ApiError(403, f"expert {who.expert_id} is not on this case's team and cannot assess it")


def _assessment(svc: Services, case: CertificationCase, who: Principal) -> dict[str, Any]:
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
