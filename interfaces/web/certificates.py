"""A label's certificate, for anyone to read: as a PDF to print or pass on (`GET
/labels/{label_ref}/certificate.pdf`) and as a web page (public_pages.py), both from one `Certificate`.

In English unless `lang` names another language the catalogue has (`de`); any other is refused with a
422 naming the languages there are, rather than a certificate in a language the reader did not ask for.
The certificate is public, but the verification code printed on it is for the secretariat and the
label's own cluster only, signed in on the pages (common.reads_verification_code).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response

from clusterlabel.activities.content.wording import DEFAULT_LANGUAGE, languages
from clusterlabel.activities.documents.certificate import Certificate, certificate_of, certificate_pdf
from clusterlabel.interfaces.web.access import public_label
from clusterlabel.interfaces.web.auth import Principal, page_principal
from clusterlabel.interfaces.web.common import PUBLIC_READ, label_id_from, public_router, reads_verification_code
from clusterlabel.interfaces.web.errors import ApiError, problems
from clusterlabel.interfaces.web.naming import expert_name
from clusterlabel.interfaces.web.ratelimit import PublicRead
from clusterlabel.interfaces.web.registry import aged
from clusterlabel.interfaces.web.services import Services, Svc

public = public_router()
PDF = "application/pdf"
Language = Annotated[
    str,
    Query(
        max_length=35,  # a BCP 47 tag's practical length; the list of languages decides the rest
        description="the language the certificate is written in",
        json_schema_extra={"enum": languages()},
    ),
]
_PDF_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {**PUBLIC_READ[200], "content": {PDF: {"schema": {"type": "string", "format": "binary"}}}},
    429: PUBLIC_READ[429],
}


@public.get(
    "/labels/{label_ref}/certificate.pdf",
    response_class=Response,
    summary="The label's certificate, as a PDF to print",
    responses=_PDF_ANSWER,
)
def certificate_as_pdf(
    label_ref: str, request: Request, svc: Svc, _: PublicRead, lang: Language = DEFAULT_LANGUAGE
) -> Response:
    """A label's certificate as it stands now: a suspended, withdrawn, expired or superseded label's says so."""
    language = certificate_language(lang)
    certificate = certificate_for(svc, label_ref, reader_of(request, svc))
    response = Response(certificate_pdf(certificate, language), media_type=PDF, headers=_headers(certificate, language))
    aged(response, svc)
    return response


def certificate_language(lang: str) -> str:
    """`lang` when certificates are written in it; a 422 naming those that are, when they are not."""
    if lang not in languages():
        message = f"certificates are not written in {lang!r}; choose one of: {', '.join(languages())}"
        raise ApiError(422, problems([message], ("query", "lang"), "unsupported_language"))
    return lang


def certificate_for(svc: Services, label_ref: str, reader: Principal | None) -> Certificate:
    """Blocking (the event store): the certificate of the label `label_ref` names, at this moment; 404 for
    an unknown one."""
    label = public_label(svc, label_id_from(label_ref))
    supersedes = svc.app.get_label(label.supersedes).label_code if label.supersedes else None
    return certificate_of(
        label,
        svc.app.get_cluster(label.cluster_id),
        svc.issuer,
        svc.public_url,
        svc.now(),
        supersedes_code=supersedes,
        experts=[expert_name(svc, expert_id) for expert_id in label.expert_ids],
        with_verification_code=reads_verification_code(reader, label),
    )


def reader_of(request: Request, svc: Services) -> Principal | None:
    """Blocking: who is signed in on the pages, if anyone (a process serving no pages has no sessions)."""
    return page_principal(request, svc) if svc.credentials is not None else None


def _headers(certificate: Certificate, language: str) -> dict[str, str]:
    name = f"{certificate.label_code}-{language}.pdf"
    # Never kept for long (a withdrawal must show at once), and never shared: the code is per reader.
    return {"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "private, no-cache"}
