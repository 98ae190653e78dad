"""The benchmarking report: its data (`ReportOut`, the one model the JSON answer, the page and the PDF all
come from) and its one template, rendered to HTML for the page and through WeasyPrint for the PDF.

The template is activities/content/templates/report.html, worded from the messages' gettext catalogue
(English, German); its charts are inline SVG (documents/charts.py), so the PDF fetches nothing.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from markupsafe import Markup
from pydantic import BaseModel, Field

from clusterlabel.activities.content.wording import document_environment, worded_in
from clusterlabel.activities.documents import charts
from clusterlabel.activities.documents.pdf import render_pdf

TEMPLATE = "report.html"


class ReportArea(BaseModel):
    """An area of the catalogue: its score is the share of the area's maximum reached, in percent."""

    code: str
    name: str
    score: int
    percentile: float | None
    peer_median: float | None
    q1: float | None
    q3: float | None
    summary: str = ""


class ReportIndicator(BaseModel):
    code: str
    title: str
    area: str
    score: int
    max_score: int
    finding: str = ""
    recommendation: str = ""
    percentile: float | None
    peer_median: float | None
    q1: float | None
    q3: float | None


class ReportPeers(BaseModel):
    """Who the cluster is compared with: `count` other clusters (each by its latest assessment) on the same catalogue,
    alike in the dimensions given (None: any); those in `widened` were given up to reach the minimum."""

    count: int
    level: str | None
    sector: str | None
    country: str | None
    size_band: str | None
    widened: list[str]


class ReportFrozen(BaseModel):
    """The PDF as rendered for the decision: a copy whose SHA-256 matches is the one the log records."""

    sha256: str
    size: int
    frozen_at: datetime


class ReportVerdict(BaseModel):
    """One verdict of a Silver case's on-site validation: an improvement area (against its Gold criterion,
    with what the cluster said it did and its evidence) or a baseline requirement."""

    code: str
    title: str
    passed: bool
    finding: str = ""
    actions: str = ""
    evidence: str = ""


class ReportValidation(BaseModel):
    """A Silver case's validation: Silver holds only when every verdict passed (domain/silver.py)."""

    holds: bool
    baseline_version: str
    criteria_version: str
    areas: list[ReportVerdict]
    requirements: list[ReportVerdict]
    recommendations: str


class ReportOut(BaseModel):
    case_id: UUID
    cluster_id: UUID
    cluster_name: str
    country: str
    sector: str
    members: int
    staff_fte: float
    size_band: str
    level: str = Field(description="the level the case applied for")
    outcome: str | None = Field(description="award, refuse or benchmark; None before the decision")
    awarded_level: str | None
    label_code: str | None = Field(description="the label the award issued, once issued")
    decided_at: datetime | None
    decided_on_appeal: bool = Field(
        default=False, description="the decision was taken again after the appeals panel overturned the first"
    )
    catalogue_version: str
    catalogue_title: str
    assessed_at: datetime
    peer_minimum: int = Field(description="the policy's fewest peers a comparison is shown with")
    peers: ReportPeers | None = Field(description="None: fewer peers than the minimum, so no comparison")
    areas: list[ReportArea]
    indicators: list[ReportIndicator]
    strengths: str
    areas_for_improvement: str
    success_stories: str
    frozen: ReportFrozen | None = Field(default=None, description="the PDF's digest, recorded at the decision")
    validation: ReportValidation | None = Field(default=None, description="Silver: the on-site validation")


def report_html(report: ReportOut, language: str, page_links: dict[str, str] | None = None) -> str:
    """The report as one self-contained HTML document; `page_links` (pdf, case) add the page's bar."""
    language = worded_in(language)
    template = document_environment(language).get_template(TEMPLATE)
    by_area: dict[str, list[ReportIndicator]] = {area.code: [] for area in report.areas}
    for item in report.indicators:
        by_area.setdefault(item.area, []).append(item)
    return template.render(
        report=report,
        language=language,
        by_area=by_area,
        radar=Markup(charts.radar([(area.name, area.score, area.peer_median) for area in report.areas])),
        strips={
            item.code: Markup(charts.strip(item.score, item.max_score, item.q1, item.peer_median, item.q3))
            for item in report.indicators
        },
        links=page_links,
    )


def report_pdf(report: ReportOut, language: str = "en") -> bytes:
    return render_pdf(report_html(report, language))
