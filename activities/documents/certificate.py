"""A label's certificate: what it shows (one model, `Certificate`), built from the label and its cluster,
and worded in a reader's language as the web page's sheet or as a printable PDF.

The certificate names the issuing body and the holder with their addresses, the level and its full
name, the label code, its validity and until when it may be renewed, the catalogue it was assessed on and
the experts who benchmarked the cluster (ISO/IEC 17065 §7.7; DOMAIN.md), and a QR
code that opens the label's live verification page. A label that is not in force says so on its face:
a printed certificate outlives the label, and the verification page is where its status is decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import segno
from babel import Locale
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict

from clusterlabel.activities.content.wording import (
    LEVEL_NAMES,
    LEVEL_TITLES,
    STATUS_NAMES,
    document_environment,
    translations,
    worded_in,
    written_day,
)
from clusterlabel.activities.documents.pdf import render_pdf
from clusterlabel.domain.base import Level
from clusterlabel.domain.cluster import Cluster
from clusterlabel.domain.label import Label
from clusterlabel.domain.label_lifecycle import IN_FORCE, LabelState, last_valid_day

SHEET = "documents/certificate_sheet.html"
DOCUMENT = "documents/certificate.html"


class Party(BaseModel):
    """A name and where to write to it, as a certificate prints them."""

    model_config = ConfigDict(frozen=True)

    name: str
    address: str | None = None
    country: str | None = None  # ISO 3166 code, printed as the reader's language names the country


# The certificates whose PDFs are kept for a reader who asks again (a few MB at most).
PDFS_KEPT = 64


class Certificate(BaseModel):
    """Everything a certificate shows, once: the web page and the PDF are both rendered from it."""

    model_config = ConfigDict(frozen=True)

    label_code: str
    level: Level
    holder: Party
    issuer: Party
    decided_at: datetime
    valid_from: datetime
    valid_until: datetime
    renewable_until: datetime
    catalogue_version: str
    experts: list[str] = []  # the benchmarking experts, by name (DOMAIN.md: what a label record shows)
    status: LabelState
    status_since: datetime
    checked_at: datetime  # when the status was read: a printed certificate tells its reader how old it is
    supersedes_code: str | None = None
    # Where a label awarded before this engine was imported from (the registry it was recorded in).
    imported_from: str | None = None
    verification_url: str
    # Printed only for those who may read it (the secretariat, the label's own cluster): with it, the
    # verification page proves that a certificate is genuine, so the public certificate leaves it out.
    verification_code: str | None = None

    @property
    def in_force(self) -> bool:
        return self.status is LabelState.ACTIVE

    @property
    def may_be_renewed(self) -> bool:
        """Until its renewal window closes, unless withdrawn or superseded: a label that no longer may be
        renewed does not print a renewal date a reader could take for one."""
        return self.status in IN_FORCE


def verification_url(public_url: str, label_code: str) -> str:
    """The label's public verification page, on the configured public address (never a request's Host)."""
    return f"{public_url.rstrip('/')}/ui/verify?{urlencode({'label': label_code})}"


def certificate_of(
    label: Label,
    cluster: Cluster,
    issuer: Party,
    public_url: str,
    now: datetime,
    *,
    supersedes_code: str | None = None,
    experts: Sequence[str] = (),
    with_verification_code: bool = False,
) -> Certificate:
    """The certificate of `label` as it stands at `now`: the holder's name as the label was issued to it,
    its address as its profile now gives it; `experts`, the names of those who benchmarked the cluster."""
    status, since = label.status_at(now)
    return Certificate(
        label_code=label.label_code,
        level=label.level,
        holder=Party(name=label.cluster_name, address=cluster.profile.address, country=label.country),
        issuer=issuer,
        decided_at=label.decided_at,
        valid_from=label.valid_from,
        valid_until=label.valid_until,
        renewable_until=label.renewable_until,
        catalogue_version=label.catalogue_version,
        experts=list(experts),
        status=status,
        status_since=since,
        checked_at=now,
        supersedes_code=supersedes_code,
        imported_from=label.imported_from,
        verification_url=verification_url(public_url, label.label_code),
        verification_code=label.verification_code if with_verification_code else None,
    )


def certificate_sheet(certificate: Certificate, language: str) -> Markup:
    """The certificate as a block of HTML, for a web page to lay out (its styles are the page's)."""
    return Markup(_render(SHEET, certificate, language))


def certificate_document(certificate: Certificate, language: str) -> str:
    """The certificate as a self-contained A4 page: styles inline, the QR code a data: URL."""
    return _render(DOCUMENT, certificate, language)


def certificate_pdf(certificate: Certificate, language: str) -> bytes:
    """The certificate's PDF. It prints the day its status was checked, not the instant, so a
    certificate read again the same day is the same document: kept, not rendered again (a render
    takes a core for a fraction of a second, and the route is public)."""
    checked_day = certificate.checked_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return _pdf_of(certificate.model_copy(update={"checked_at": checked_day}).model_dump_json(), language)


@lru_cache(maxsize=PDFS_KEPT)
def _pdf_of(certificate_json: str, language: str) -> bytes:
    return render_pdf(certificate_document(Certificate.model_validate_json(certificate_json), language))


def qr_code(url: str) -> str:
    """The QR code of `url` as an SVG data: URL (nothing to fetch; the pages' CSP allows data: images)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=8, border=2, dark="#12324f"))


def _render(template: str, certificate: Certificate, language: str) -> str:
    language = worded_in(language)
    values = {"certificate": certificate, "printed": _printed(certificate, language), "language": language}
    return document_environment(language).get_template(template).render(**values)


def _printed(certificate: Certificate, language: str) -> dict[str, Any]:
    """What the template prints that the language decides: names of levels and countries, dates."""
    gettext = translations(language).gettext
    territories = Locale.parse(language).territories
    status = gettext(STATUS_NAMES[certificate.status.value])
    return {
        "level": gettext(LEVEL_NAMES[certificate.level.value]),
        "title": gettext(LEVEL_TITLES[certificate.level.value]),
        "holder_country": territories.get(certificate.holder.country or "", certificate.holder.country),
        "issuer_country": territories.get(certificate.issuer.country or "", certificate.issuer.country),
        "decided": written_day(certificate.decided_at, language),
        "valid_from": written_day(certificate.valid_from, language),
        "valid_until": written_day(last_valid_day(certificate.valid_until), language),
        "renewable_until": written_day(last_valid_day(certificate.renewable_until), language),
        "expired_on": written_day(certificate.valid_until, language),
        "since": written_day(certificate.status_since, language),
        "checked": written_day(certificate.checked_at, language),
        "status": status,
        "banner": None if certificate.in_force else status,
        "qr": qr_code(certificate.verification_url),
    }
