"""The scheme's rules through the HTTP API: a Gold team's two signatures, benchmarking for a cluster
that is not eligible for a label, an appeal against a rejection at screening, and one against an award
below the level applied for."""

from __future__ import annotations

from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine, eventually
from tests.e2e.page_session import pages_as, token_of


def test_a_gold_assessment_moves_to_decision_only_once_the_other_team_expert_signs(
    secretariat: Secretariat,
) -> None:
    secretariat.expert(name="Aiste Auditor", country="LT")
    case_id = secretariat.apply(secretariat.cluster(country="LT"), "gold")
    secretariat.screen(case_id)
    (first_id, first), (second_id, second) = secretariat.staff(case_id, 2)
    secretariat.assess(case_id, first, "gold")

    waiting = secretariat.case(case_id)
    assert waiting["state"] == "auditing" and waiting["signed_by"] == [first_id]
    outsider_id, outsider = secretariat.expert(name="Otto Outsider", country="AT")
    refused = outsider.post(f"/cases/{case_id}/assessment/signature", json={})
    assert refused.status_code == 403, refused.text
    assert secretariat.api.post(f"/cases/{case_id}/assessment/signature", json={}).status_code == 403
    again = first.post(f"/cases/{case_id}/assessment/signature", json={})
    assert again.status_code == 409 and "already signed" in again.json()["detail"]
    assert secretariat.case(case_id)["state"] == "auditing"

    signed = secretariat.sign(case_id, second)
    assert signed["state"] == "deciding" and signed["signed_by"] == [first_id, second_id]
    listed = secretariat.wait_for(case_id, "the view", lambda c: c["state"] == "deciding")
    assert listed["signed_by"] == [first_id, second_id]
    summaries = secretariat.expect(secretariat.api.get("/cases", params={"state": "deciding"}), 200)
    assert [first_id, second_id] in [summary["signed_by"] for summary in summaries if summary["case_id"] == case_id]
    assert outsider_id not in signed["signed_by"]


def test_a_disagreeing_gold_expert_submits_a_version_of_their_own_for_the_other_to_sign(
    secretariat: Secretariat,
) -> None:
    secretariat.expert(name="Aiste Auditor 2", country="LT")
    case_id = secretariat.apply(secretariat.cluster(country="LT"), "gold")
    secretariat.screen(case_id)
    (_, first), (second_id, second) = secretariat.staff(case_id, 2)
    secretariat.assess(case_id, first, "gold")
    replaced = secretariat.assess(case_id, second, "gold")
    assert replaced["state"] == "auditing" and replaced["signed_by"] == [second_id]
    assert replaced["assessment_version"] == 2
    stale = first.post(f"/cases/{case_id}/assessment/signature", json={"version": 1})
    assert stale.status_code == 409, stale.text
    assert secretariat.sign(case_id, first)["state"] == "deciding"


def test_a_cluster_missing_criteria_is_benchmarked_without_a_label(secretariat: Secretariat) -> None:
    cluster_id = secretariat.cluster(members=4, eccp_listed=False)
    refused = secretariat.api.post("/applications", json={"cluster_id": cluster_id, "level": "bronze"})
    assert refused.status_code == 422, refused.text
    messages = [problem["msg"] for problem in refused.json()["detail"]]
    assert len(messages) == 2 and any("4 committed members" in message for message in messages)

    body = {"cluster_id": cluster_id, "level": "bronze", "benchmarking_only": True}
    case_id = secretariat.expect(secretariat.api.post("/applications", json=body), 201)["case_id"]
    assert secretariat.case(case_id)["kind"] == "benchmarking"
    secretariat.to_decision(case_id)
    decided = secretariat.decide(case_id)
    assert decided["state"] == "benchmarked" and decided["label_id"] is None
    # Its workflow closes it without a label: the cluster may ask for another benchmarking at the level.
    eventually(lambda: secretariat.api.post("/applications", json=body).status_code == 201, 30, "the case closed")
    assert secretariat.case(case_id)["label_id"] is None
    assert "LabelIssued" not in [event["type"] for event in secretariat.history(case_id)]


def test_a_rejection_at_screening_can_be_appealed_and_screened_again_by_another_officer(
    secretariat: Secretariat,
) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    screener = secretariat.member("Rita Screener", "officer", "appeals")
    rejected = screener.post(f"/cases/{case_id}/screening", json={"accepted": False, "reason": "No questionnaire."})
    assert secretariat.expect(rejected, 200)["state"] == "rejected"
    assert "appeal" in secretariat.case(case_id)["deadlines"]

    lodged = secretariat.api.post(f"/cases/{case_id}/appeal", json={"grounds": "It was sent by post."})
    assert secretariat.expect(lodged, 200)["state"] == "rejected"
    own = screener.post(f"/cases/{case_id}/appeal/decision", json={"upheld": True, "rationale": "Mine."})
    assert own.status_code == 403 and "took the appealed decision" in own.json()["detail"]
    panel = secretariat.member("Appeals Panel", "appeals")
    upheld = panel.post(f"/cases/{case_id}/appeal/decision", json={"upheld": True, "rationale": "It arrived."})
    assert secretariat.expect(upheld, 200)["state"] == "screening"

    again = screener.post(f"/cases/{case_id}/screening", json={"accepted": True})
    assert again.status_code == 403 and "cannot screen the application again" in again.json()["detail"]
    other = secretariat.member("Otto Officer", "officer")
    assert secretariat.expect(other.post(f"/cases/{case_id}/screening", json={"accepted": True}), 200)["state"] == (
        "assigning"
    )


def test_a_gold_application_awarded_silver_is_appealed_by_its_contact_and_ends_with_gold(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    secretariat.expert(name="Aiste Auditor 4", country="LT")
    cluster_id = secretariat.cluster(country="LT")
    case_id = secretariat.apply(cluster_id, "gold")
    secretariat.to_decision(case_id, "gold")
    secretariat.decide(case_id, level="silver", rationale="The visit found gaps in two areas.")
    awarded = secretariat.wait_for(case_id, "the Silver label", lambda c: c["label_id"] and "appeal" in c["deadlines"])
    silver_id = awarded["label_id"]
    assert awarded["state"] == "awarded" and not awarded["concluded"]
    assert secretariat.label(silver_id)["level"] == "silver"

    page = pages_as(engine, token_of(secretariat.contact(cluster_id, "Paula Contact")))
    assert "Lodge appeal" in page.get(f"/ui/cases/{case_id}").text
    lodged = page.post(f"/ui/cases/{case_id}/appeal", data={"grounds": "The assessment supports Gold."})
    assert lodged.status_code == 303, lodged.text
    assert secretariat.case(case_id)["appeal_lodged"] is True
    assert "Lodge appeal" not in page.get(f"/ui/cases/{case_id}").text  # once: the panel decides it now
    panel = secretariat.member("Appeals Panel 2", "appeals")
    upheld = panel.post(f"/cases/{case_id}/appeal/decision", json={"upheld": True, "rationale": "It does."})
    assert secretariat.expect(upheld, 200)["state"] == "deciding"
    # The report no longer states the overturned Silver award while the case is decided again.
    report = secretariat.expect(secretariat.api.get(f"/cases/{case_id}/report"), 200)
    assert (report["outcome"], report["awarded_level"], report["label_code"]) == (None, None, None)
    refusal = secretariat.member("Second Decider", "decider").post(
        f"/cases/{case_id}/decision", json={"outcome": "refuse", "rationale": "No."}
    )
    assert refusal.status_code == 422 and "must award silver or a higher level" in refusal.text
    secretariat.decide(case_id, decided_by="Third Decider", level="gold", rationale="On appeal: Gold.")
    final = secretariat.wait_for(case_id, "the Gold label", lambda c: c["label_id"] not in (None, silver_id))
    assert secretariat.label(final["label_id"])["level"] == "gold"
    report = secretariat.expect(secretariat.api.get(f"/cases/{case_id}/report"), 200)
    assert (report["outcome"], report["awarded_level"]) == ("award", "gold")
    eventually(lambda: secretariat.label(silver_id)["state"] == "superseded", 30, "the Silver label superseded")


def test_the_case_page_shows_who_signed_and_offers_the_other_gold_expert_the_signature(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    secretariat.expert(name="Aiste Auditor 3", country="LT")
    case_id = secretariat.apply(secretariat.cluster(country="LT"), "gold")
    secretariat.screen(case_id)
    (_, first), (_, second) = secretariat.staff(case_id, 2)
    secretariat.assess(case_id, first, "gold")

    signed_first = pages_as(engine, token_of(first)).read(f"/ui/cases/{case_id}").text
    assert 'id="signed-by"' in signed_first and 'id="signature"' not in signed_first
    other = pages_as(engine, token_of(second))
    page = other.read(f"/ui/cases/{case_id}").text
    assert 'id="signature"' in page and "Sign the assessment" in page and "(version 1)" in page
    answer = other.post(f"/ui/cases/{case_id}/assessment/signature", {"version": "1"})
    assert other.flash_after(answer) == ("ok", "assessment signature recorded")
    assert secretariat.case(case_id)["state"] == "deciding"


def test_a_decision_a_rule_refuses_comes_back_on_the_case_page_as_typed_with_the_reason(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.to_decision(case_id)
    decider = pages_as(engine, token_of(secretariat.member("Dora Decider", "decider")))
    decider.read(f"/ui/cases/{case_id}")

    typed = {"outcome": "award", "level": "gold", "rationale": "Weighed at length, line by line."}
    answer = decider.post(f"/ui/cases/{case_id}/decision", typed)

    assert "cannot award gold" in decider.shown_again(answer, 422)  # a Bronze application
    assert ">Weighed at length, line by line.</textarea>" in answer.text
    assert "<option selected>gold</option>" in answer.text
    assert secretariat.case(case_id)["state"] == "deciding"


def test_an_officers_waiver_lets_a_cluster_in_a_national_programme_apply_for_a_label(
    secretariat: Secretariat,
) -> None:
    cluster_id = secretariat.cluster(members=6)
    assert secretariat.api.post("/applications", json={"cluster_id": cluster_id, "level": "bronze"}).status_code == 422
    officer = secretariat.member("Wanda Officer", "officer")
    blank = officer.post(f"/clusters/{cluster_id}/waivers", json={"criterion": "members", "reason": " "})
    assert blank.status_code == 422, blank.text
    body = {"criterion": "members", "reason": "Member of the national cluster programme."}
    waived = secretariat.expect(officer.post(f"/clusters/{cluster_id}/waivers", json=body), 200)
    (waiver,) = waived["waivers"]
    assert waiver["criterion"] == "members" and waiver["granted_by"].startswith("account:")
    assert secretariat.apply(cluster_id)


def test_an_agreement_issues_the_quoted_invoice_that_an_officer_marks_paid_once(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    cluster_id, other_cluster = secretariat.cluster(), secretariat.cluster()
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    _, expert = secretariat.proposed_expert(case_id)
    secretariat.expect(expert.post(f"/cases/{case_id}/assignment", json={"accept": True}), 200)
    agreement = {"agreed": True, "audit_mode": "video"}
    secretariat.expect(secretariat.api.post(f"/cases/{case_id}/agreement", json=agreement), 200)

    unpaid = secretariat.expect(secretariat.api.get("/invoices", params={"status": "unpaid", "limit": 1000}), 200)
    (invoice,) = [entry for entry in unpaid if entry["case_id"] == case_id]
    assert (invoice["amount"], invoice["item"]) == ("1,650.00 EUR", "Bronze label audit by video")
    assert invoice["number"].startswith("INV-") and not invoice["overdue"]
    url = f"/invoices/{invoice['invoice_id']}"
    contact = secretariat.contact(cluster_id, "Paula Payer")
    assert secretariat.expect(contact.get(url), 200)["number"] == invoice["number"]
    assert [entry["case_id"] for entry in secretariat.expect(contact.get("/invoices"), 200)] == [case_id]
    portal = pages_as(engine, token_of(contact)).read("/ui/portal").text
    assert invoice["number"] in portal and "Bronze label audit by video" in portal
    stranger = secretariat.contact(other_cluster, "Sam Stranger")
    for outsider in (stranger, expert):
        assert outsider.get(url).status_code == 404
    assert contact.post(f"{url}/payment", json={"paid_on": "2020-01-02", "reference": "X"}).status_code == 403

    dashboard = pages_as(engine, token_of(secretariat.api))
    listed = dashboard.read("/ui/dashboard").text
    assert invoice["number"] in listed and "1,650.00 EUR" in listed

    today = invoice["issued_at"][:10]  # the money arrived the day the invoice went out
    before = secretariat.api.post(f"{url}/payment", json={"paid_on": "2020-01-02", "reference": "SEPA-0042"})
    assert before.status_code == 422 and "before the invoice was issued" in before.text
    payment = {"paid_on": today, "reference": "SEPA-0042"}
    paid = secretariat.expect(
        secretariat.api.post(f"{url}/payment", json=payment, headers={"Idempotency-Key": "p1"}), 200
    )
    assert (paid["state"], paid["paid_on"], paid["reference"]) == ("paid", today, "SEPA-0042")
    retried = secretariat.api.post(f"{url}/payment", json=payment, headers={"Idempotency-Key": "p1"})
    assert secretariat.expect(retried, 200)["reference"] == "SEPA-0042"
    twice = secretariat.api.post(f"{url}/payment", json={**payment, "reference": "SEPA-0043"})
    assert twice.status_code == 409 and f"was paid on {today} (reference SEPA-0042)" in twice.json()["detail"]
    still_unpaid = secretariat.expect(secretariat.api.get("/invoices", params={"status": "unpaid", "limit": 1000}), 200)
    assert case_id not in [entry["case_id"] for entry in still_unpaid]
    assert invoice["number"] not in dashboard.read("/ui/dashboard").text
