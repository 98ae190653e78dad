"""The benchmarking report as a document: one template, read back from its PDF as a reader sees it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from clusterlabel.activities.documents.report import ReportOut, report_html, report_pdf
from clusterlabel.domain.catalogue_shelf import load_catalogue
from tests.pdf_reading import pdf_page_png, pdf_text

CATALOGUE = load_catalogue("bronze-2020")


def sample_report(**changes: object) -> ReportOut:
    """A Bronze report of a cluster with five peers, findings on its first indicator and first area."""
    indicators = [
        {
            "code": item.code,
            "title": item.title,
            "area": item.area,
            "score": (number * 3) % (item.max_score + 1),
            "max_score": item.max_score,
            "finding": "Members meet monthly." if number == 0 else "",
            "recommendation": "Survey them yearly." if number == 0 else "",
            "percentile": 40.0 + number,
            "peer_median": 2.5,
            "q1": 1.0,
            "q3": 4.0,
        }
        for number, item in enumerate(CATALOGUE.indicators)
    ]
    areas = [
        {
            "code": area.code,
            "name": area.title,
            "score": 40 + 8 * number,
            "percentile": 30.0 + 10 * number,
            "peer_median": 55.0,
            "q1": 40.0,
            "q3": 70.0,
            "summary": "A clear structure with a board of six." if number == 0 else "",
        }
        for number, area in enumerate(CATALOGUE.areas)
    ]
    report = {
        "case_id": uuid4(),
        "cluster_id": uuid4(),
        "cluster_name": "Baltic Marine Cluster",
        "country": "LT",
        "sector": "maritime",
        "members": 42,
        "staff_fte": 2.5,
        "size_band": "small",
        "level": "bronze",
        "outcome": "award",
        "awarded_level": "bronze",
        "label_code": "ECEI-B-2026-0001",
        "decided_at": datetime(2026, 11, 30, 12, tzinfo=UTC),
        "catalogue_version": CATALOGUE.version,
        "catalogue_title": CATALOGUE.title,
        "assessed_at": datetime(2026, 11, 20, 12, tzinfo=UTC),
        "peer_minimum": 5,
        "peers": {
            "count": 7,
            "level": "bronze",
            "sector": "maritime",
            "country": None,
            "size_band": None,
            "widened": ["size_band", "country"],
        },
        "areas": areas,
        "indicators": indicators,
        "strengths": "A committed board.",
        "areas_for_improvement": "Private funding.",
        "success_stories": "A shared test bed for river transport.",
    }
    return ReportOut.model_validate({**report, **changes})


def test_the_pdf_names_the_cluster_its_label_each_area_and_the_findings(tmp_path: Path) -> None:
    pdf = report_pdf(sample_report())
    text = " ".join(pdf_text(pdf).split())  # as read, whatever the lines wrap at
    for expected in ["Baltic Marine Cluster", "ECEI-B-2026-0001", *(area.title for area in CATALOGUE.areas)]:
        assert expected in text
    assert "Members meet monthly." in text and "Survey them yearly." in text
    assert (
        "Compared with 7 other clusters, each by its latest assessment" in text
        and "widened to any size band, country" in text
    )
    png = pdf_page_png(pdf, tmp_path / "report.png")
    assert png.stat().st_size > 20_000  # a page with charts and tables, not a blank one


def test_with_too_few_peers_the_report_shows_no_comparison() -> None:
    text = " ".join(report_html(sample_report(peers=None), "en").split())
    assert "Fewer than 5 other clusters were assessed on this catalogue: no comparison is shown" in text


def test_the_report_reads_in_german() -> None:
    html = report_html(sample_report(), "de")
    assert 'lang="de"' in html and "Benchmarking-Bericht" in html and "Stärken" in html


def test_text_from_the_expert_is_escaped_not_markup() -> None:
    html = report_html(sample_report(strengths="<script>alert(1)</script>"), "en")
    assert "<script>" not in html and "&lt;script&gt;" in html


SILVER_VALIDATION = {
    "holds": False,
    "baseline_version": "baseline-2020",
    "criteria_version": "gold-2020",
    "areas": [
        {
            "code": "G-SRV-01",
            "title": "Service portfolio",
            "passed": True,
            "actions": "Launched a matchmaking service.",
            "evidence": "Twelve events with attendance lists.",
        }
    ],
    "requirements": [
        {"code": "BL-01", "title": "Written strategy", "passed": True},
        {"code": "BL-04", "title": "Budget plan", "passed": False, "finding": "No plan beyond this year."},
    ],
    "recommendations": "Plan the budget two years ahead.",
}


def test_a_silver_report_shows_the_validation_its_verdicts_and_recommendations() -> None:
    report = sample_report(level="silver", validation=SILVER_VALIDATION)
    text = " ".join(pdf_text(report_pdf(report)).split())
    assert "Silver validation" in text and "the assessment supports Bronze, not Silver" in text
    assert "Launched a matchmaking service." in text and "Twelve events with attendance lists." in text
    assert "BL-04 Budget plan" in text and "not met" in text and "No plan beyond this year." in text
    assert "Recommendations" in text and "Plan the budget two years ahead." in text
    german = report_html(report, "de")
    assert "Silber-Validierung" in german and "nicht erfüllt" in german and "Empfehlungen" in german


def test_a_report_without_a_validation_shows_none() -> None:
    assert "Silver validation" not in report_html(sample_report(), "en")
