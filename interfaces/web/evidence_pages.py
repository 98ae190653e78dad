"""The evidence on the case page: its files, each a download link, and the form that attaches one.

The form posts to /ui/cases/{id}/evidence, which calls the API's own route function (evidence.attach)
with the same checks; a download is the API's answer too, for the page's signed-in caller (the pages
never send a bearer token). Installed before forms.py, whose catch-all takes every other case form.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from clusterlabel.interfaces.web import evidence
from clusterlabel.interfaces.web.errors import ApiError
from clusterlabel.interfaces.web.pages import _svc, back, case_id_in, page, signed_in


def install(api: FastAPI) -> None:
    api.add_api_route("/ui/cases/{case_id}/evidence", attach, methods=["POST"], include_in_schema=False)
    api.add_api_route("/ui/cases/{case_id}/evidence/{sha256}", download, methods=["GET"], include_in_schema=False)


@page
async def attach(request: Request) -> Response:
    who = await signed_in(request)
    svc = _svc(request)
    case_id = case_id_in(request.path_params["case_id"])
    case_page = f"/ui/cases/{case_id}"
    form = await request.form(max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return back(request, case_page, error="choose a file to attach")
    try:
        _, already = await evidence.attach_file(case_id, svc, who, upload)
    except ApiError as error:
        text = error.detail if isinstance(error.detail, str) else "; ".join(p["msg"] for p in error.detail)
        return back(request, case_page, error=text)
    said = "was already attached" if already else "attached"
    return back(request, case_page, done=f"{upload.filename or 'the file'} {said}")


@page
async def download(request: Request) -> Response:
    who = await signed_in(request)
    svc = _svc(request)
    case_id: UUID = case_id_in(request.path_params["case_id"])
    sha256 = request.path_params["sha256"]

    def fetch() -> Response:
        return evidence.file_response(svc, evidence.evidence_case(svc, case_id, who), sha256)

    return await run_in_threadpool(fetch)
