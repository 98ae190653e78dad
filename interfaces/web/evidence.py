"""Evidence documents of a case: uploaded as multipart/form-data, listed, downloaded.

Who: the secretariat reads every case's evidence and its officers attach files (a document that came by
post); the case's cluster contacts and the experts on its team read and attach. An expert only proposed
for the case sees the case but not its evidence (403); anyone else gets the 404 of an unknown case.
Files are attached while the case is open (screening to deciding; 409 afterwards).

Each file is stored once by its SHA-256 (activities/files.py) and its upload is an event of the case
(EvidenceAttached: name, size, hash, type, who), through activities/evidence.py. The body is limited
twice: the whole request, as it streams in, to the largest file plus room for the form's framing
(errors.BodySizeLimit stops reading there), and the file itself to CLUSTERLABEL_EVIDENCE_MAX_BYTES.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from clusterlabel.activities.evidence import store_and_attach
from clusterlabel.activities.files import FileMissing, sha256_of
from clusterlabel.domain.account import Role
from clusterlabel.domain.base import DomainError
from clusterlabel.domain.certification_case import CertificationCase
from clusterlabel.domain.evidence import ACCEPTED, MEDIA_TYPES, UnsupportedMediaType
from clusterlabel.interfaces.web.access import reads_evidence, visible_case
from clusterlabel.interfaces.web.auth import Caller, Principal, certified_expert
from clusterlabel.interfaces.web.common import ERRORS, Key
from clusterlabel.interfaces.web.errors import ApiError, from_domain
from clusterlabel.interfaces.web.schemas import ErrorMessage
from clusterlabel.interfaces.web.services import Services, Svc

router = APIRouter(tags=["evidence"], responses=ERRORS)
# What a multipart body adds around the file (boundaries, part headers, the file's name): generous.
MULTIPART_FRAMING_BYTES = 64 * 1024
# The upload routes, API and page, whose bodies may be as large as a file (errors.BodySizeLimit).
UPLOAD_PATH = re.compile(r"^(/ui)?/cases/[^/]+/evidence/?$")
READ_CHUNK_BYTES = 1024 * 1024


class EvidenceOut(BaseModel):
    sha256: str = Field(description="the SHA-256 of the content, hex: the file's id")
    name: str = Field(description="the file's name as uploaded, made safe (no folders, no control characters)")
    size: int = Field(description="bytes")
    media_type: str = Field(description="read from the content, not from the name")
    uploaded_by: str = Field(description="who attached it, as the event log names them (account:<id>)")
    uploaded_at: datetime


UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorMessage, "description": "the file is larger than CLUSTERLABEL_EVIDENCE_MAX_BYTES"},
    415: {"model": ErrorMessage, "description": f"the file's content is not {ACCEPTED}"},
}


@router.post(
    "/cases/{case_id}/evidence",
    status_code=201,
    responses=UPLOAD_ERRORS,
    summary="Attach a file to the case (PDF, image, office document); stored once by its SHA-256",
)
async def attach(
    case_id: UUID,
    svc: Svc,
    who: Caller,
    file: Annotated[UploadFile, File(description=f"{ACCEPTED}; its type is read from its content")],
    key: Key = None,
) -> EvidenceOut:
    """The file's record; when the case already holds the same bytes, the record of their first upload (its
    name and uploader). A repeat records nothing, whatever its Idempotency-Key: the file's hash is the
    command's key, so a retry is answered as the first try was."""
    record, _ = await attach_file(case_id, svc, who, file)
    return record


async def attach_file(case_id: UUID, svc: Services, who: Principal, file: StarletteUpload) -> tuple[EvidenceOut, bool]:
    """The upload route's work, for the page's form too (its form parser gives Starlette's UploadFile): the
    file's record, and whether the case held it already."""
    case = await run_in_threadpool(evidence_case, svc, case_id, who)
    if not attaches_evidence(who):
        raise ApiError(403, "only an officer of the secretariat, the case's cluster or its experts attach evidence")
    if who.is_expert:  # a revoked or lapsed certification works on no case (403); reads the store
        await run_in_threadpool(certified_expert, who, svc)
    content = await _read_limited(file, svc.evidence_max_bytes)
    already = await run_in_threadpool(sha256_of, content) in case.evidence  # megabytes: off the event loop
    try:
        case, sha256 = await run_in_threadpool(
            store_and_attach, svc.app, svc.file_store(), case_id, content, file.filename, who.actor
        )
    except UnsupportedMediaType as refusal:
        raise ApiError(415, refusal.message) from None
    except DomainError as refusal:
        raise from_domain(refusal, ("body", "file")) from None
    svc.wrote()
    return evidence_out(sha256, case.evidence[sha256]), already


@router.get("/cases/{case_id}/evidence", summary="The files attached to the case, oldest first")
def list_evidence(case_id: UUID, svc: Svc, who: Caller) -> list[EvidenceOut]:
    case = evidence_case(svc, case_id, who)
    return [evidence_out(sha256, entry) for sha256, entry in case.evidence.items()]


@router.get(
    "/cases/{case_id}/evidence/{sha256}",
    response_class=Response,
    responses={
        200: {
            "description": "the file, as uploaded, as an attachment under its name",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in MEDIA_TYPES},
        }
    },
    summary="Download one of the case's files, by its SHA-256",
)
def download(case_id: UUID, sha256: str, svc: Svc, who: Caller) -> Response:
    return file_response(svc, evidence_case(svc, case_id, who), sha256)


def evidence_case(svc: Services, case_id: UUID, who: Principal) -> CertificationCase:
    """The case, if the caller may read its evidence: 404 as for an unknown case when they may not see it,
    403 for an expert who sees it only as proposed (not yet on its team)."""
    case = visible_case(svc, case_id, who)
    if reads_evidence(who, case):
        return case
    raise ApiError(403, "only the experts on the case's team read its evidence")


def attaches_evidence(who: Principal) -> bool:
    """Of the secretariat, only officers attach (deciders and the appeals panel judge what others sent)."""
    return who.holds(Role.OFFICER) or not who.sees_everything


def file_response(svc: Services, case: CertificationCase, sha256: str) -> Response:
    """The file as an attachment under its name; only a file attached to this case, whatever else is stored."""
    entry = case.evidence.get(sha256)
    if entry is None:
        raise ApiError(404, f"no evidence {sha256} on case {case.id}")
    try:
        content = svc.file_store().get(sha256)
    except FileMissing:
        raise ApiError(500, f"evidence {sha256} is recorded but its file is missing from the store") from None
    return Response(
        content,
        media_type=entry["media_type"],
        headers={"Content-Disposition": attachment(entry["file_name"]), "Cache-Control": "private, no-store"},
    )


def attachment(file_name: str) -> str:
    """A Content-Disposition every browser reads: an ASCII fallback, and the name itself (RFC 6266, 5987)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def evidence_out(sha256: str, entry: dict[str, Any]) -> EvidenceOut:
    return EvidenceOut(
        sha256=sha256,
        name=entry["file_name"],
        size=entry["size"],
        media_type=entry["media_type"],
        uploaded_by=entry["by"],
        uploaded_at=entry["at"],
    )


async def _read_limited(file: StarletteUpload, max_bytes: int) -> bytes:
    """The file's bytes, read no further than one byte past the limit; 413 over it, 422 when empty."""
    parts: list[bytes] = []
    size = 0
    while chunk := await file.read(min(READ_CHUNK_BYTES, max_bytes + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, f"the file is larger than {_readable_size(max_bytes)}: nothing was recorded")
    return b"".join(parts)


def _readable_size(size: int) -> str:
    for unit, scale in (("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"
