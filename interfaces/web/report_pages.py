"""The benchmarking report's page and its PDF, for a signed-in reader (the same people as the API's
/cases/{id}/report): the page in the reader's language (or `?lang=`), the PDF as frozen at the decision."""

from __future__ import annotations

import base64
import hashlib
import re
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from clusterlabel.activities.documents.report import report_html
from clusterlabel.interfaces.web.auth import Principal
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.headers import STRICT_CSP
from clusterlabel.interfaces.web.pages import _svc, page, signed_in
from clusterlabel.interfaces.web.people import ENGLISH
from clusterlabel.interfaces.web.report import frozen_pdf, pdf_response, readable_report, report_case
from clusterlabel.interfaces.web.services import Services

_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def install(api: FastAPI) -> None:
    api.add_api_route(
        "/ui/cases/{case_id}/report", report_page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse
    )
    api.add_api_route("/ui/cases/{case_id}/report.pdf", report_pdf_page, methods=["GET"], include_in_schema=False)


@page
async def report_page(request: Request) -> Response:
    who = await signed_in(request)
    svc = _svc(request)
    case_id = _case_id(request)
    language = request.query_params.get("lang") or _language_of(svc, who)

    def gather() -> str:
        found = readable_report(svc, case_id, who)
        links = {"pdf": f"/ui/cases/{case_id}/report.pdf", "case": f"/ui/cases/{case_id}"}
        return report_html(found, language, links if found.outcome else {"case": links["case"]})

    html = await run_in_threadpool(gather)
    return HTMLResponse(html, headers={"Content-Security-Policy": _csp_for(html)})


@page
async def report_pdf_page(request: Request) -> Response:
    who = await signed_in(request)
    svc = _svc(request)
    case_id = _case_id(request)
    pdf = await run_in_threadpool(lambda: frozen_pdf(svc, report_case(svc, case_id, who)))
    return pdf_response(pdf, case_id)


def _csp_for(html: str) -> str:
    """The pages' policy, but for the report's own stylesheet (inline, so that the PDF from the same template
    fetches nothing), allowed by its digest; still no script, nothing from elsewhere."""
    digests = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
        for block in _STYLE.findall(html)
    )
    return STRICT_CSP.replace("style-src 'self'", f"style-src 'self' {digests}")


def _case_id(request: Request) -> UUID:
    try:
        return UUID(request.path_params["case_id"])
    except ValueError:
        raise ApiError(404, f"no case with id {request.path_params['case_id']}") from None


def _language_of(svc: Services, who: Principal) -> str:
    person = svc.people.get(who.account_id) if who.account_id is not None else None
    return person.language if person else ENGLISH
