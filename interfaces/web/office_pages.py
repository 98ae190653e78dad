"""The secretariat's registers in the browser: the clusters and the experts, a page for each, and the
forms an officer fills in on them (registering, applying for a cluster, adding its contact; renewing or
revoking an expert's certification, recording an affiliation). Everyone of the secretariat reads them;
each form is shown only to a role that may send it (office_forms.py carries it out).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.domain.account import Role
from clusterlabel.domain.cluster import MemberType
from clusterlabel.domain.expert import Expert
from clusterlabel.interfaces.web.access import visible_cluster
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.page_serving import list_page
from clusterlabel.interfaces.web.pages import _svc, page, render, serve_pages, signed_in
from clusterlabel.interfaces.web.paging import LEVELS, STATES, choice, choose, listing, paging, text
from clusterlabel.interfaces.web.services import Services
from clusterlabel.projections.invoices import InvoiceEntry

EXPERT_STATUSES = ["certified", "lapsed"]
CHOICES = 1000  # the clusters an affiliation is chosen from (a datalist; past it, paste the cluster's id)


def install(api: FastAPI) -> None:
    serve_pages(api, ("/ui/clusters", clusters_page), ("/ui/clusters/{cluster_id}", cluster_page))
    serve_pages(api, ("/ui/experts", experts_page), ("/ui/experts/{expert_id}", expert_page))


def form_key() -> str:
    """A new key for each form a page renders: the form is carried out once however often it is sent."""
    return uuid4().hex


def actions(who: Principal) -> dict[str, bool]:
    """Which kinds of form the caller may send, so that a page shows those alone."""
    return {"officer": who.holds(Role.OFFICER), "admin": who.holds(Role.ADMIN)}


def record_id(text: str, kind: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise ApiError(404, f"no {kind} {text!r}") from None


# ---- clusters -------------------------------------------------------------------------------------


@page
async def clusters_page(request: Request) -> Response:
    who = await signed_in(request, admin=True)
    svc, asked, query = _svc(request), paging(request), text(request)
    country = (text(request, "country") or "").upper()[:2] or None

    def gather() -> list[Any]:
        svc.fresh()  # a cluster just registered is listed at once
        return svc.models.clusters(text=query, country=country, limit=asked.ask, offset=asked.offset)

    shown = {"country": country, "member_types": [kind.value for kind in MemberType], "form_key": form_key()}
    return await list_page(request, who, "clusters", asked, gather, q=query, **shown, **actions(who))


@page
async def cluster_page(request: Request) -> Response:
    who = await signed_in(request, admin=True)
    cluster_id = record_id(request.path_params["cluster_id"], "cluster")
    overview = await cluster_overview(request, who, cluster_id)
    return render(request, "cluster.html", who, **overview, form_key=form_key(), **actions(who))


def _invoices(svc: Services, who: Principal, cluster_id: UUID, now: datetime) -> list[tuple[InvoiceEntry, bool]] | None:
    """The cluster's invoices, each with whether it is overdue: for the secretariat and the cluster's contacts
    only (None for an expert who sees the cluster through a case of theirs)."""
    if not who.sees_everything and who.cluster_id != cluster_id:
        return None
    return [(entry, entry.is_overdue(now)) for entry in svc.models.invoices(cluster_id=cluster_id)]


async def cluster_overview(
    request: Request, who: Principal, cluster_id: UUID, *, renewals: bool = False
) -> dict[str, Any]:
    """What a cluster's page shows, to the secretariat and in the portal to its contacts alike: its
    profile, the criteria it misses, its cases (filtered and paged), its labels and its invoices; with `renewals`,
    which of those labels may be renewed now."""
    svc, asked = _svc(request), paging(request)
    state, level = choice(request, "state", STATES), choice(request, "level", LEVELS)

    def gather() -> dict[str, Any]:
        cluster = visible_cluster(svc, cluster_id, who).cluster
        svc.fresh()
        now = svc.now()
        cases = svc.models.cases(
            now, cluster_id=cluster_id, state=state, level=level, limit=asked.ask, offset=asked.offset
        )
        labels = svc.models.public_registry(now, cluster_id=cluster_id, limit=100)
        renewable = (
            {entry.label_id for entry in labels if svc.app.get_label(entry.label_id).may_start_renewal(now)}
            if renewals
            else set()
        )
        return {
            "cluster": cluster,
            "unmet": cluster.unmet_criteria(svc.app.policy),  # as an application is judged: waivers stand in
            "cases": listing(request, asked, cases),
            "labels": labels,
            "renewable": renewable,
            "invoices": _invoices(svc, who, cluster_id, now),
        }

    gathered = await run_in_threadpool(gather)
    return {**gathered, "state": state, "level": level, "states": STATES, "levels": LEVELS}


# ---- experts --------------------------------------------------------------------------------------


@page
async def experts_page(request: Request) -> Response:
    who = await signed_in(request, admin=True)
    svc, asked, query = _svc(request), paging(request), text(request)
    certification = choose(request, "status", EXPERT_STATUSES, "certification")
    status = certification.chosen

    def gather() -> list[Expert]:
        # The roster, read whole: a few hundred experts at most, so no view of its own yet.
        found = [svc.app.get_expert(expert_id) for expert_id in svc.app.expert_ids()]
        found = [expert for expert in found if _matches(expert, query) and _has_status(expert, status, svc)]
        found.sort(key=lambda expert: (expert.name.casefold(), str(expert.id)))
        return found[asked.offset : asked.offset + asked.ask]

    shown = {"now": svc.now(), "choices": [certification], "form_key": form_key()}
    return await list_page(request, who, "experts", asked, gather, q=query, **shown, **actions(who))


@page
async def expert_page(request: Request) -> Response:
    who = await signed_in(request, admin=True)
    svc = _svc(request)
    expert_id = record_id(request.path_params["expert_id"], "expert")

    def gather() -> dict[str, Any]:
        expert = _expert(svc, expert_id)
        svc.fresh()
        cluster_names = {str(c.cluster_id): c.name for c in svc.models.clusters(limit=CHOICES)}
        affiliated = {str(cluster_id): svc.app.get_cluster(cluster_id).name for cluster_id in expert.affiliations}
        return {
            "expert": expert,
            "certified": expert.is_certified_at(svc.now()),
            "affiliated": affiliated,
            "clusters": cluster_names,
            "cases": svc.models.cases(svc.now(), expert_id=expert_id, limit=100),
        }

    return render(request, "expert.html", who, **(await run_in_threadpool(gather)), form_key=form_key(), **actions(who))


def _expert(svc: Services, expert_id: UUID) -> Expert:
    if expert_id not in set(svc.app.expert_ids()):
        raise ApiError(404, f"no expert with id {expert_id}")
    return svc.app.get_expert(expert_id)


def _matches(expert: Expert, query: str | None) -> bool:
    return query is None or query.casefold() in expert.name.casefold()


def _has_status(expert: Expert, status: str | None, svc: Services) -> bool:
    if status is None:
        return True
    return expert.is_certified_at(svc.now()) == (status == "certified")
