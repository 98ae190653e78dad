"""The benchmarking report through the real engine: who may read it, the PDF frozen at the decision and
checked against the log, what it says and shows, and a browser downloading it."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e import browser as chromium
from tests.e2e.driver import REPORT, Secretariat
from tests.e2e.engine import ARTIFACTS, HOUR_POLICY, ROOT, RunningEngine, eventually, running_engine
from tests.e2e.page_session import pages_as, sign_in, token_of
from tests.pdf_reading import pdf_page_png, pdf_text

PEERS = 3  # this module's peer_group_minimum (the default is 5): the report compares with exactly that many
# The README's picture of a report is refreshed only on request, so a test run leaves the checkout as it was.
README_SCREENSHOT = ROOT / "docs" / "screenshots" / "report.png"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    """The module's engine, with a smaller peer minimum: fewer peers to assess, the same rule."""
    with running_engine(
        tmp_path_factory.mktemp("engine") / "data", {**HOUR_POLICY, "peer_group_minimum": PEERS}
    ) as running:
        yield running


def varied_scores(secretariat: Secretariat, shift: int) -> list[dict[str, Any]]:
    """Every Bronze indicator scored, differently for each `shift`, so that the peers spread out."""
    items = secretariat.full_scores("bronze")
    return [{**item, "score": (number + shift) % (item["score"] + 1)} for number, item in enumerate(items)]


def assessed(secretariat: Secretariat, cluster_id: str, body: dict[str, Any]) -> tuple[str, httpx.Client]:
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    ((_, expert),) = secretariat.staff(case_id)
    secretariat.expect(expert.post(f"/cases/{case_id}/assessment", json=body), 200)
    return case_id, expert


@pytest.fixture(scope="module")
def scene(secretariat: Secretariat) -> dict[str, Any]:
    """Three maritime peers assessed (none decided), and the Baltic Marine Cluster awarded with findings."""
    peers = []
    for shift in range(PEERS):
        cluster_id = secretariat.cluster(name=f"North Sea Cluster {shift}", country="DE")
        peers.append(
            assessed(secretariat, cluster_id, {"indicators": varied_scores(secretariat, shift), "report": REPORT})
        )
    cluster_id = secretariat.cluster(name="Baltic Marine Cluster", country="LT")
    contact = secretariat.contact(cluster_id, "Clara Contact")
    pattern = [2, 4, 5, 1, 3, 5]  # the cluster's own scores: ahead of its peers here, behind them there
    indicators = [
        {**item, "score": min(pattern[number % len(pattern)], item["score"])}
        for number, item in enumerate(secretariat.full_scores("bronze"))
    ]
    indicators[0] |= {"finding": "Members meet monthly.", "recommendation": "Survey them yearly."}
    body = {
        "indicators": indicators,
        "report": REPORT,
        "area_summaries": [{"code": "structure", "summary": "A clear structure with a board of six."}],
        "strengths": "A committed board.",
        "areas_for_improvement": "Private funding.",
        "success_stories": "A shared test bed for river transport.",
    }
    case_id, expert = assessed(secretariat, cluster_id, body)
    undecided_peer, _ = peers[0]
    before = {
        "contact": secretariat.contact(secretariat.case(undecided_peer)["cluster_id"], "Paul Peer").get(
            f"/cases/{undecided_peer}/report.pdf"
        ),
        "secretariat": secretariat.api.get(f"/cases/{undecided_peer}/report.pdf"),
        "contact_json": contact.get(f"/cases/{case_id}/report"),
    }
    secretariat.decide(case_id)
    label_id = secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"]
    return {
        "case_id": case_id,
        "found_on": indicators[0]["code"],
        "contact": contact,
        "expert": expert,
        "label_code": secretariat.label(label_id)["label_code"],
        "before": before,
    }


def frozen_digest(secretariat: Secretariat, case_id: str) -> str:
    """The SHA-256 the case's history records for its report."""

    def recorded() -> str | None:
        found = [event for event in secretariat.history(case_id) if event["type"] == "ReportFrozen"]
        return found[-1]["data"]["sha256"] if found else None

    return eventually(recorded, 30, "the report's digest in the case's history")


def test_before_the_decision_there_is_no_pdf_and_the_cluster_reads_no_report(scene: dict[str, Any]) -> None:
    before = scene["before"]
    assert before["contact"].status_code == 409 and "not decided yet" in before["contact"].json()["detail"]
    assert before["secretariat"].status_code == 409
    assert before["contact_json"].status_code == 409


def test_the_secretariat_the_contact_and_the_expert_download_the_same_frozen_pdf(
    secretariat: Secretariat, scene: dict[str, Any]
) -> None:
    case_id = scene["case_id"]
    copies = [
        client.get(f"/cases/{case_id}/report.pdf") for client in (secretariat.api, scene["contact"], scene["expert"])
    ]
    assert [(copy.status_code, copy.headers["content-type"]) for copy in copies] == [(200, "application/pdf")] * 3
    assert copies[0].content == copies[1].content == copies[2].content
    assert hashlib.sha256(copies[0].content).hexdigest() == frozen_digest(secretariat, case_id)
    assert [event["type"] for event in secretariat.history(case_id)].count("ReportFrozen") == 1


def test_anyone_without_the_right_is_answered_as_for_an_unknown_case(
    engine: RunningEngine, secretariat: Secretariat, scene: dict[str, Any]
) -> None:
    case_id = scene["case_id"]
    other_contact = secretariat.contact(secretariat.cluster(name="Danube Cluster", country="RO"), "Otto Other")
    _, other_expert = secretariat.expert(name="Zora Outsider", country="FR")
    unknown = "00000000-0000-4000-8000-000000000000"
    for client in (other_contact, other_expert):
        for path in (f"/cases/{case_id}/report.pdf", f"/cases/{case_id}/report"):
            answer = client.get(path)
            assert (answer.status_code, answer.json()["detail"]) == (404, f"no case with id {case_id}")
    assert secretariat.api.get(f"/cases/{unknown}/report.pdf").status_code == 404
    assert engine.client(None).get(f"/cases/{case_id}/report.pdf").status_code == 401  # the public


def test_the_report_compares_with_the_peers_and_carries_the_findings(
    secretariat: Secretariat, scene: dict[str, Any]
) -> None:
    report = secretariat.expect(scene["contact"].get(f"/cases/{scene['case_id']}/report"), 200)
    assert report["peers"]["count"] == PEERS and report["peers"]["widened"] == ["size_band", "country"]
    assert report["label_code"] == scene["label_code"] and report["frozen"]["sha256"]
    assert {area["code"] for area in report["areas"]} == {
        "structure",
        "governance",
        "financing",
        "services",
        "interaction",
        "recognition",
    } and all(set(area) >= {"code", "name", "score", "percentile"} for area in report["areas"])
    (found,) = [item for item in report["indicators"] if item["code"] == scene["found_on"]]
    assert (found["finding"], found["recommendation"]) == ("Members meet monthly.", "Survey them yearly.")
    # The first indicator: the peers scored 0, 1 and 2 (varied_scores), the cluster 2 (a tie counts half).
    assert (found["score"], found["peer_median"], found["q1"], found["q3"], found["percentile"]) == (
        2,
        1,
        0.5,
        1.5,
        83.33,
    )
    assert report["strengths"] == "A committed board." and report["areas"][0]["summary"].startswith("A clear")


def test_the_pdf_says_the_cluster_its_label_and_each_area_and_shows_its_charts(
    secretariat: Secretariat, scene: dict[str, Any]
) -> None:
    case_id = scene["case_id"]
    pdf = secretariat.api.get(f"/cases/{case_id}/report.pdf").content
    text = " ".join(pdf_text(pdf).split())
    report = secretariat.expect(secretariat.api.get(f"/cases/{case_id}/report"), 200)
    for expected in ["Baltic Marine Cluster", scene["label_code"], *(area["name"] for area in report["areas"])]:
        assert expected in text
    assert (
        f"Compared with {PEERS} other clusters, each by its latest assessment" in text
        and "Members meet monthly." in text
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = pdf_page_png(pdf, ARTIFACTS / "report-page-1.png")
    assert page.stat().st_size > 20_000  # charts and tables, not a blank page
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOT.write_bytes(page.read_bytes())


def test_the_page_reads_in_german_and_it_and_the_case_timeline_show_the_recorded_digest(
    secretariat: Secretariat, scene: dict[str, Any]
) -> None:
    pages = pages_as(secretariat.engine, token_of(scene["contact"]))
    page = pages.read(f"/ui/cases/{scene['case_id']}/report?lang=de").text
    assert "Benchmarking-Bericht" in page and "Baltic Marine Cluster" in page
    digest = frozen_digest(secretariat, scene["case_id"])
    assert digest in page
    case_page = pages.read(f"/ui/cases/{scene['case_id']}").text  # its timeline names the digest, and links the report
    assert digest in case_page and f'href="/ui/cases/{scene["case_id"]}/report"' in case_page


@pytest.mark.skipif(
    not chromium.available() and os.environ.get("CI") != "true",
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
)
def test_a_contact_downloads_the_pdf_from_the_report_page_in_a_browser(
    engine: RunningEngine, secretariat: Secretariat, scene: dict[str, Any]
) -> None:
    path = f"/ui/cases/{scene['case_id']}/report"
    downloads = ARTIFACTS / "downloads"
    shutil.rmtree(downloads, ignore_errors=True)
    downloads.mkdir(parents=True)
    with chromium.headless_chromium(downloads) as browser:
        sign_in(browser, engine, token_of(scene["contact"]), path)
        shown = browser.text("code.sha256")
        browser.screenshot(ARTIFACTS / "report-page.png")
        browser.click("a.pdf")
        pdf_file = eventually(lambda: next(downloads.glob("*.pdf"), None), 20, "the PDF to be downloaded")
    pdf = pdf_file.read_bytes()
    assert pdf_file.name == f"benchmarking-report-{scene['case_id']}.pdf" and pdf[:5] == b"%PDF-"
    assert hashlib.sha256(pdf).hexdigest() == shown == frozen_digest(secretariat, scene["case_id"])


def test_an_expert_saves_drafts_of_the_findings_and_submits_them_once(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id, expert_id, expert = _auditing_tourism(secretariat, "Adriatic Tourism Cluster")
    form_page = f"/ui/cases/{case_id}/assessment"
    outsider = pages_as(engine, next(token for other, token in engine.experts.items() if other != expert_id))
    refused = outsider.post(form_page, {"strengths": "Not mine to write.", "action": "draft"})
    assert outsider.flash_after(refused)[0] == "error"  # an expert off the team keeps no draft of it
    pages = pages_as(engine, token_of(expert))
    pages.read(form_page)
    scores = {f"score:{item['code']}": str(item["score"]) for item in secretariat.full_scores("bronze")}
    first = next(iter(scores)).removeprefix("score:")
    draft = {f"score:{first}": "3", f"finding:{first}": "Members meet monthly.", "strengths": "A committed board."}

    saved = pages.post(form_page, {**draft, "action": "draft"})
    assert pages.flash_after(saved) == ("ok", "draft saved: it is not submitted")
    form = pages.read(form_page).text
    assert "Members meet monthly." in form and "A committed board." in form and 'value="3"' in form
    assert "Not mine to write." not in form
    oversized = pages.post(form_page, {**draft, "success_stories": "x" * 50_001, "action": "draft"})
    assert "too large" in pages.shown_again(oversized, 422) and "x" * 50_001 in oversized.text  # as typed
    assert "x" * 100 not in pages.read(form_page).text  # the earlier draft stands
    assert secretariat.case(case_id)["state"] == "auditing"
    assert all(event["type"] != "AssessmentSubmitted" for event in secretariat.history(case_id))
    # A submission refused is shown again as typed, and kept as the draft (before, it was lost).
    typed = {**scores, f"score:{first}": "99", f"finding:{first}": "Members meet weekly.", "report": REPORT}
    refused = pages.post(form_page, typed)
    pages.shown_again(refused, 422)
    assert "Members meet weekly." in refused.text and typed_score(refused, first) == "99"
    assert "Members meet weekly." in pages.read(form_page).text
    assert all(event["type"] != "AssessmentSubmitted" for event in secretariat.history(case_id))

    submitted = pages.post(
        form_page,
        {**scores, **draft, "summary:structure": "A clear structure.", "report": REPORT},
    )
    assert pages.flash_after(submitted) == ("ok", "assessment recorded")
    assert [event["type"] for event in secretariat.history(case_id)].count("AssessmentSubmitted") == 1
    report = secretariat.expect(secretariat.api.get(f"/cases/{case_id}/report"), 200)
    (found,) = [item for item in report["indicators"] if item["code"] == first]
    assert (found["finding"], report["strengths"], report["areas"][0]["summary"]) == (
        "Members meet monthly.",
        "A committed board.",
        "A clear structure.",
    )
    assert "Members meet monthly." not in pages.read(form_page).text  # the draft is done with


def test_an_assessment_refused_as_the_case_moved_on_is_shown_again_as_typed_with_its_draft_button(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id, _, expert = _auditing_tourism(secretariat, "Istrian Tourism Cluster")
    form_page = f"/ui/cases/{case_id}/assessment"
    pages = pages_as(engine, token_of(expert))
    pages.read(form_page)
    scores = {f"score:{item['code']}": str(item["score"] - 1) for item in secretariat.full_scores("bronze")}
    first = next(iter(scores)).removeprefix("score:")
    typed = {**scores, f"finding:{first}": "Members meet every week.", "strengths": "A board that listens."}
    # While the expert types, the secretariat withdraws the case: the submission comes too late (409).
    withdrawal = secretariat.api.post(f"/cases/{case_id}/withdrawal", json={"reason": "The cluster withdrew."})
    secretariat.expect(withdrawal, 200)

    refused = pages.post(form_page, {**typed, "report": REPORT})

    assert pages.shown_again(refused, 409)
    assert "Members meet every week." in refused.text and "A board that listens." in refused.text
    assert REPORT in refused.text and typed_score(refused, first) == scores[f"score:{first}"]
    assert 'id="save-draft"' in refused.text  # the form still offers its draft
    assert all(event["type"] != "AssessmentSubmitted" for event in secretariat.history(case_id))


def test_an_answer_to_a_proposal_refused_is_shown_again_as_typed_on_the_assignments_page(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id = secretariat.apply(secretariat.cluster(name="Dalmatian Tourism Cluster", country="HR", sector="tourism"))
    secretariat.screen(case_id)
    _, expert = secretariat.proposed_expert(case_id)
    pages = pages_as(engine, token_of(expert))
    pages.read("/ui/assignments")
    reason = "I audited its founding member. " * 70  # longer than a reason may be

    refused = pages.post(f"/ui/cases/{case_id}/assignment", {"accept": "false", "reason": reason})

    assert "reason" in pages.shown_again(refused, 422)
    assert f'value="{reason}"' in refused.text
    assert secretariat.case(case_id)["proposed_expert_id"] is not None  # nothing was recorded
    secretariat.staff(case_id)  # its answer, so that the next proposals go round as before


def _auditing_tourism(secretariat: Secretariat, name: str) -> tuple[str, str, httpx.Client]:
    """A Bronze case of a Croatian tourism cluster, screened and staffed: its id, its expert's id and client.
    Tourism, so that the case is nobody's peer in the tests above (their group keeps the sector)."""
    case_id = secretariat.apply(secretariat.cluster(name=name, country="HR", sector="tourism"))
    secretariat.screen(case_id)
    ((expert_id, expert),) = secretariat.staff(case_id)
    return case_id, expert_id, expert


def typed_score(page: httpx.Response, code: str) -> str | None:
    """The score an assessment form shows for the indicator `code`."""
    found = re.search(rf'name="score:{re.escape(code)}"[^>]*value="([^"]*)"', page.text)
    return found.group(1) if found else None


def test_a_translation_of_the_pdf_reads_in_german_and_the_frozen_record_stays_english(
    secretariat: Secretariat, scene: dict[str, Any]
) -> None:
    case_id = scene["case_id"]
    german = scene["contact"].get(f"/cases/{case_id}/report.pdf", params={"lang": "de"})
    assert german.status_code == 200 and german.headers["content-type"] == "application/pdf"
    assert "-de.pdf" in german.headers["content-disposition"]
    text = " ".join(pdf_text(german.content).split())
    assert "BENCHMARKING-BERICHT" in text and "Mitglieder, Personal" in text and scene["label_code"] in text
    assert hashlib.sha256(german.content).hexdigest() != frozen_digest(secretariat, case_id)  # not the record
    assert [event["type"] for event in secretariat.history(case_id)].count("ReportFrozen") == 1
    refused = secretariat.api.get(f"/cases/{case_id}/report.pdf", params={"lang": "fr"})
    assert refused.status_code == 422 and "not written in 'fr'" in refused.json()["detail"][0]["msg"]
