"""A label's certificate as its reader gets it: the PDF's text in English and German, its page as an
image with a QR code that a camera reads back as the verification page, and a label no longer in force
saying so on its face. Real aggregates (an in-memory store), the real renderer; no engine."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pypdf
import pytest
import zxingcpp
from babel.dates import format_date
from PIL import Image, ImageStat

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.documents.certificate import (
    Certificate,
    Party,
    certificate_of,
    certificate_pdf,
    certificate_sheet,
)
from clusterlabel.activities.label_import import import_labels
from clusterlabel.domain.commands import SuspendLabel, WithdrawLabel
from clusterlabel.domain.label_import import read_label_import
from clusterlabel.domain.record_commands import UpdateClusterProfile
from tests.builders import cluster_profile, send
from tests.e2e.engine import ARTIFACTS, ROOT
from tests.lifecycle import SECRETARIAT, Clock, Lifecycle, memory_app
from tests.pdf_reading import pdf_page_png, pdf_text

PUBLIC_URL = "https://labels.example.org"
ISSUER = Party(name="European Secretariat for Cluster Analysis (ESCA)", address="Berlin", country="DE")
ADDRESS = "Naujoji Uosto g. 8, 92119 Klaipėda"
# The README shows this page; it is rewritten only on request, so a test run leaves the checkout as it was.
README_SCREENSHOT = ROOT / "docs" / "screenshots" / "certificate.png"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock) -> CertificationApp:
    return memory_app(clock=clock)


@pytest.fixture
def label_id(app: CertificationApp) -> UUID:
    """A Bronze label of a cluster that gave its postal address after registering."""
    life = Lifecycle(app)
    profile = cluster_profile(address=ADDRESS)
    send(app, life.cluster_id, UpdateClusterProfile(profile=profile), actor=SECRETARIAT)
    _, label_id = life.labelled()
    return label_id


def certificate(app: CertificationApp, label_id: UUID, **options: Any) -> Certificate:
    label = app.get_label(label_id)
    cluster = app.get_cluster(label.cluster_id)
    return certificate_of(label, cluster, ISSUER, PUBLIC_URL, app.clock(), **options)


def sheet_text(shown: Certificate, language: str) -> str:
    """The certificate as the web page shows it (the PDF lays out the same sheet: cheaper to read here)."""
    return str(certificate_sheet(shown, language))


def day(moment: datetime, language: str) -> str:
    return format_date(moment.astimezone(UTC).date(), "long", locale=language)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            [
                *("CERTIFICATE", "Striving for Cluster Excellence", "Valid until", "Renewable until"),
                *("Benchmarking experts", "Lithuania", "Germany", "VALID"),
            ],
        ),
        (
            "de",
            [
                *("ZERTIFIKAT", "Auf dem Weg zur Cluster-Exzellenz", "Gültig bis", "Erneuerbar bis"),
                *("Benchmarking-Experten", "Litauen", "Deutschland", "GÜLTIG"),
            ],
        ),
    ],
)
def test_the_certificate_names_the_label_its_holder_its_validity_and_its_issuer_in_the_readers_language(
    app: CertificationApp, label_id: UUID, language: str, words: list[str]
) -> None:
    shown = certificate(app, label_id, experts=["Aaron Auditor", "Jūratė Vaitkienė"])
    # Lines as the reader reads them: a long name wraps in its cell where the renderer's metrics say so.
    text = " ".join(pdf_text(certificate_pdf(shown, language)).split())

    label = app.get_label(label_id)
    for expected in [
        label.label_code,
        "Baltic Marine Cluster",
        ADDRESS,
        "European Secretariat for Cluster Analysis (ESCA)",
        "Berlin",
        label.catalogue_version,
        day(label.valid_from, language),
        day(label.valid_until - timedelta(days=1), language),  # ends at midnight: valid to the day before
        day(label.renewable_until - timedelta(days=1), language),  # its last day, as the validity's
        "Aaron Auditor, Jūratė Vaitkienė",
        f"{PUBLIC_URL}/ui/verify?label={label.label_code}",
        *words,
    ]:
        assert expected in text, f"{expected!r} is not on the {language} certificate:\n{text}"


def test_a_validity_that_ends_at_midnight_prints_its_last_day_not_the_next(
    app: CertificationApp, label_id: UUID
) -> None:
    """valid_until is the first instant a label no longer holds: one valid to the end of a month ends at
    midnight on the 1st of the next, and the certificate says "valid until" the last day of the month."""
    label = app.get_label(label_id)
    assert (label.valid_until.day, label.valid_until.hour, label.valid_until.minute) == (1, 0, 0)
    sheet = sheet_text(certificate(app, label_id), "en")
    valid_until_row = sheet.split("Valid until", 1)[1].split("</tr>", 1)[0]
    assert day(label.valid_until - timedelta(days=1), "en") in valid_until_row
    assert day(label.valid_until, "en") not in valid_until_row


def test_the_web_page_shows_what_the_pdf_shows(app: CertificationApp, label_id: UUID) -> None:
    sheet = sheet_text(certificate(app, label_id), "de")
    label = app.get_label(label_id)
    for expected in [label.label_code, "Baltic Marine Cluster", "Auf dem Weg zur Cluster-Exzellenz"]:
        assert expected in sheet
    assert day(label.valid_until - timedelta(days=1), "de") in sheet


def test_the_rendered_page_carries_a_qr_code_that_opens_the_labels_verification_page(
    app: CertificationApp, label_id: UUID
) -> None:
    shown = certificate(app, label_id, experts=["Aaron Auditor", "Jūratė Vaitkienė"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = pdf_page_png(certificate_pdf(shown, "en"), ARTIFACTS / "certificate-pdf.png")
    if os.environ.get("CLUSTERLABEL_UPDATE_DOCS"):
        pdf_page_png(certificate_pdf(shown, "en"), README_SCREENSHOT)
    image = Image.open(png).convert("L")
    assert image.width > image.height, "an A4 landscape page"
    assert ImageStat.Stat(image).stddev[0] > 20, "the page is blank"
    decoded = [found.text for found in zxingcpp.read_barcodes(image)]
    assert decoded == [f"{PUBLIC_URL}/ui/verify?label={shown.label_code}"]


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_certificate_with_every_row_fits_one_page(app: CertificationApp, label_id: UUID, language: str) -> None:
    experts = ["Aaron Auditor", "Jūratė Vaitkienė"]
    shown = certificate(app, label_id, experts=experts, with_verification_code=True, supersedes_code="ECEI-B-PREV")
    assert len(pypdf.PdfReader(io.BytesIO(certificate_pdf(shown, language))).pages) == 1


def test_a_withdrawn_labels_certificate_says_it_is_withdrawn_and_not_valid(
    app: CertificationApp, clock: Clock, label_id: UUID
) -> None:
    clock.advance(days=40)
    send(app, label_id, WithdrawLabel(reason="the cluster was dissolved"), actor=SECRETARIAT)
    withdrawn_on = app.clock()

    text = pdf_text(certificate_pdf(certificate(app, label_id), "en"))
    assert f"This label was withdrawn on {day(withdrawn_on, 'en')}. This certificate is not valid." in text
    assert "VALID" not in text.replace("NOT VALID", "")
    assert "Renewable until" not in text  # nor may it be renewed: no date a reader could take for a renewal's
    # The web page and the German certificate come from the same sheet, and say it as plainly.
    german = sheet_text(certificate(app, label_id), "de")
    assert "entzogen" in german and "Dieses Zertifikat ist nicht gültig." in german
    assert 'class="status-banner"' in german


def test_a_suspended_or_expired_labels_certificate_says_so(app: CertificationApp, clock: Clock, label_id: UUID) -> None:
    send(app, label_id, SuspendLabel(reason="complaint under investigation"), actor=SECRETARIAT)
    assert "is not valid while it is suspended" in sheet_text(certificate(app, label_id), "en")

    valid_until = app.get_label(label_id).valid_until
    clock.now = valid_until  # the expiry's timer has not fired: the date decides
    text = sheet_text(certificate(app, label_id), "en")
    assert f"This label expired on {day(valid_until, 'en')}. This certificate is no longer valid." in text
    assert "Renewable until" in text  # expired, it may still be renewed while its window runs


def test_a_lapsed_labels_certificate_says_it_has_lapsed_as_verification_does(
    app: CertificationApp, clock: Clock, label_id: UUID
) -> None:
    label = app.get_label(label_id)
    clock.now = label.renewable_until  # its window closed; the lapse's timer has not fired: the date decides
    assert label.status_at(clock.now)[0].value == "lapsed"

    text = sheet_text(certificate(app, label_id), "en")

    assert f"This label expired on {day(label.valid_until, 'en')} and has lapsed: it can no longer be renewed" in text
    assert 'aria-hidden="true">lapsed<' in text and "Renewable until" not in text
    german = sheet_text(certificate(app, label_id), "de")
    assert 'aria-hidden="true">erloschen<' in german and "nicht mehr erneuert werden" in german


def test_the_verification_code_is_printed_only_when_the_reader_may_have_it(
    app: CertificationApp, label_id: UUID
) -> None:
    code = app.get_label(label_id).verification_code
    assert code not in sheet_text(certificate(app, label_id), "en")
    assert code in sheet_text(certificate(app, label_id, with_verification_code=True), "en")


def test_a_cluster_without_a_postal_address_is_printed_with_its_country(app: CertificationApp) -> None:
    _, label_id = Lifecycle(app).labelled()
    text = sheet_text(certificate(app, label_id), "en")
    assert "Baltic Marine Cluster" in text and "Lithuania" in text and "None" not in text


def test_a_label_imported_from_an_earlier_registry_says_so_and_shows_no_empty_catalogue(app: CertificationApp) -> None:
    rows = "cluster_name,country,level,label_code,awarded_on,valid_until,source,website\n"
    rows += "Saxon Optics,DE,bronze,ESCA-B-0001,2025-05-02,2027-05-31,ESCA database export 2026-11,https://optics.example.de\n"
    import_labels(app, read_label_import(rows), SECRETARIAT)
    label = app.find_label("ESCA-B-0001")

    english = sheet_text(certificate(app, label.id), "en")
    german = sheet_text(certificate(app, label.id), "de")

    assert "imported from ESCA database export 2026-11" in english and "Indicator catalogue" not in english
    assert "übernommen aus ESCA database export 2026-11" in german


def test_a_certificate_read_again_the_same_day_is_the_same_pdf_and_a_change_of_status_shows_at_once(
    app: CertificationApp, clock: Clock, label_id: UUID
) -> None:
    """The public PDF is kept for readers who ask again that day (a render is costly), but never past a
    change: a withdrawal shows on the very next read."""
    first = certificate_pdf(certificate(app, label_id), "en")
    clock.advance(hours=1)
    assert certificate_pdf(certificate(app, label_id), "en") is first  # kept, not rendered again
    send(app, label_id, WithdrawLabel(reason="the cluster was dissolved"), actor=SECRETARIAT)
    withdrawn = certificate_pdf(certificate(app, label_id), "en")
    assert "This certificate is not valid." in pdf_text(withdrawn)
    assert "This certificate is not valid." not in pdf_text(first)
