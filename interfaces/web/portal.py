"""The cluster's portal: a contact person's own cluster, its cases with their deadlines, its labels, and
the forms the cluster sends itself (an application for a level, a label's renewal inside its window).

Each case opens on the case page, where the contact follows its timeline, agrees to the proposed
experts, reads the assessment and report once decided and lodges an appeal against a refusal.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from clusterlabel.domain.account import Role
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.office_pages import cluster_overview, form_key
from clusterlabel.interfaces.web.pages import page, render, signed_in


def install(api: FastAPI) -> None:
    api.add_api_route("/ui/portal", portal, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


@page
async def portal(request: Request) -> Response:
    who = await signed_in(request)
    if not who.holds(Role.CLUSTER) or who.cluster_id is None:
        raise ApiError(403, "the portal is a cluster contact's; sign in with your contact account")
    cluster_id = who.cluster_id
    overview = await cluster_overview(request, who, cluster_id, renewals=True)
    return render(request, "portal.html", who, **overview, form_key=form_key())
