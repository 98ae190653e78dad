"""The cluster's portal: a contact person's own cluster, its cases with their deadlines, its labels, and
the forms the cluster sends itself (an application for a level, a label's renewal inside its window).

Each case opens on the case page, where the contact follows its timeline, agrees to the proposed
experts, reads the assessment and report once decided and lodges an appeal against a refusal.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.account import Role
from clusterlabel.interfaces.web.access import visible_cluster
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.office_pages import form_key
from clusterlabel.interfaces.web.pages import _svc, page, render, signed_in
from clusterlabel.interfaces.web.paging import LEVELS, STATES, choice, listing, paging


def install(api: FastAPI) -> None:
    api.add_api_route("/ui/portal", portal, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


@page
async def portal(request: Request) -> Response:
    who = await signed_in(request)
    if not who.holds(Role.CLUSTER) or who.cluster_id is None:
        raise ApiError(403, "the portal is a cluster contact's; sign in with your contact account")
    cluster_id = who.cluster_id
    svc, asked = _svc(request), paging(request)
    state, level = choice(request, "state", STATES), choice(request, "level", LEVELS)

    def gather() -> dict[str, Any]:
        cluster = visible_cluster(svc, cluster_id, who).cluster
        svc.fresh()
        now = svc.now()
        cases = svc.models.cases(
            now, cluster_id=cluster_id, state=state, level=level, limit=asked.ask, offset=asked.offset
        )
        entries = svc.models.public_registry(now, cluster_id=cluster_id, limit=100)
        return {
            "cluster": cluster,
            "unmet": cluster.profile.unmet_criteria(svc.app.policy),
            "cases": listing(request, asked, cases),
            "labels": entries,
            "renewable": {
                entry.label_id for entry in entries if svc.app.get_label(entry.label_id).may_start_renewal(now)
            },
        }

    gathered = await run_in_threadpool(gather)
    return render(
        request,
        "portal.html",
        who,
        **gathered,
        state=state,
        level=level,
        states=STATES,
        levels=LEVELS,
        form_key=form_key(),
    )
