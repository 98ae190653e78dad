"""The administrators' pages: every account by name, a page for each, and the forms that open an account
with its roles, grant and revoke a role and deactivate an account (office_forms.py carries them out
through the account routes). They read through the routes' own functions, behind the routes' guard."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.content.wording import languages
from clusterlabel.domain.account import Role
from clusterlabel.interfaces.web import accounts
from clusterlabel.interfaces.web.auth import only_admins
from clusterlabel.interfaces.web.naming import names
from clusterlabel.interfaces.web.office_pages import form_key, record_id
from clusterlabel.interfaces.web.pages import _svc, page, render, signed_in
from clusterlabel.interfaces.web.paging import listing, paging

ROLES = [role.value for role in Role]


def install(api: FastAPI) -> None:
    for path, endpoint in [("/ui/accounts", accounts_page), ("/ui/accounts/{account_id}", account_page)]:
        api.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)


@page
async def accounts_page(request: Request) -> Response:
    who = only_admins(await signed_in(request))
    svc, asked = _svc(request), paging(request)

    def gather() -> dict[str, Any]:
        rows = accounts.list_accounts(svc, who, limit=asked.ask, offset=asked.offset)
        return {"accounts": listing(request, asked, rows), "clusters": svc.models.clusters(limit=1000)}

    gathered = await run_in_threadpool(gather)
    return render(request, "accounts.html", who, **gathered, roles=ROLES, form_key=form_key())


@page
async def account_page(request: Request) -> Response:
    who = only_admins(await signed_in(request))
    svc = _svc(request)
    account_id = record_id(request.path_params["account_id"], "account")

    def gather() -> dict[str, Any]:
        account = accounts.get_account(account_id, svc, who)
        cluster = svc.app.get_cluster(account.cluster_id).name if account.cluster_id else None
        return {
            "account": account,
            "cluster_name": cluster,
            "named": names(svc, expert_ids=[account.expert_id]),
            "grantable": [role for role in ROLES if role not in account.roles and role not in ("expert", "cluster")],
            "languages": languages(),
        }

    return render(request, "account.html", who, **(await run_in_threadpool(gather)), form_key=form_key())
