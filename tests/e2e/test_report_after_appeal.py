"""The benchmarking report of a case whose decision an upheld appeal overturned, through the real engine:
no decision and no PDF while the case is decided again (the PDF frozen for the refusal is no longer the
report), then the new decision's, which says it was taken on appeal, in English and in German."""

from __future__ import annotations

import httpx

from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine
from tests.e2e.page_session import pages_as, token_of
from tests.pdf_reading import pdf_text


def test_a_refusal_overturned_on_appeal_is_reported_no_more_and_the_new_award_says_it_was_taken_on_appeal(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    cluster_id = secretariat.cluster(name="Aegean Logistics Cluster", country="LT")
    contact = secretariat.contact(cluster_id, "Rhea Contact")
    case_id = secretariat.apply(cluster_id)
    secretariat.to_decision(case_id)
    secretariat.decide(case_id, outcome="refuse")
    refused_pdf = pdf_of(contact.get(f"/cases/{case_id}/report.pdf"))
    assert "refused" in " ".join(pdf_text(refused_pdf).split())

    lodged = contact.post(f"/cases/{case_id}/appeal", json={"grounds": "The scores support Bronze."})
    secretariat.expect(lodged, 200)
    panel = secretariat.member("Appeals Panel", "appeals")
    upheld = panel.post(f"/cases/{case_id}/appeal/decision", json={"upheld": True, "rationale": "They do."})
    assert secretariat.expect(upheld, 200)["state"] == "deciding"

    # While the case is decided again, neither the report nor its PDF states the overturned refusal
    # (before, the PDF download answered the refusal's frozen PDF).
    for language in ("en", "de"):
        pdf = contact.get(f"/cases/{case_id}/report.pdf", params={"lang": language})
        assert pdf.status_code == 409 and "upheld appeal overturned" in pdf.json()["detail"], pdf.status_code
    report = secretariat.expect(contact.get(f"/cases/{case_id}/report"), 200)
    assert (report["outcome"], report["decided_at"], report["decided_on_appeal"]) == (None, None, False)
    assert report["frozen"] is None  # the refusal's digest is the record of a decision that no longer stands
    page = pages_as(engine, token_of(contact)).read(f"/ui/cases/{case_id}")
    assert 'id="overturned"' in page.text and "refuse ·" not in page.text  # the case page states none either

    secretariat.decide(case_id, decided_by="Second Decider", rationale="On appeal: Bronze.")
    secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])
    report = secretariat.expect(contact.get(f"/cases/{case_id}/report"), 200)
    assert (report["outcome"], report["awarded_level"], report["decided_on_appeal"]) == ("award", "bronze", True)
    awarded_pdf = pdf_of(contact.get(f"/cases/{case_id}/report.pdf"))
    assert awarded_pdf != refused_pdf
    page = pages_as(engine, token_of(contact)).read(f"/ui/cases/{case_id}")
    assert "award · bronze" in page.text and 'id="overturned"' not in page.text
    text = " ".join(pdf_text(awarded_pdf).split())
    assert "awarded" in text and "decided again after an upheld appeal" in text
    german = pdf_of(contact.get(f"/cases/{case_id}/report.pdf", params={"lang": "de"}))
    assert "nach stattgegebenem Einspruch neu entschieden" in " ".join(pdf_text(german).split())


def pdf_of(answer: httpx.Response) -> bytes:
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf", answer.text
    return answer.content
