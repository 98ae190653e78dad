"""The forms of the secretariat's pages, the accounts pages and the cluster's portal, posted as a browser
posts them: each is carried out by the API's own route after the route's guard, and a refused one goes
back to its page with the reason, having recorded nothing."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.driver import Secretariat, cluster_body
from tests.e2e.engine import RunningEngine
from tests.e2e.page_session import pages_as, token_of
from tests.e2e.pages_client import Pages

FLASH = re.compile(r'<div class="flash (ok|error)" role="status">(.*?)</div>', re.S)


def cluster_form(**changes: Any) -> dict[str, Any]:
    """A cluster's registration as its form sends it: checkboxes after their hidden "false"."""
    body = cluster_body(**changes)
    form = {key: str(value) for key, value in body.items() if key not in ("member_types", "eccp_listed")}
    return {**form, "member_types": body["member_types"], "eccp_listed": ["false", *(["true"] * body["eccp_listed"])]}


def posted(page: Pages, path: str, **fields: Any) -> httpx.Response:
    return page.post(path, data={"csrf_token": "", **fields})


def shown(page: Pages, answer: httpx.Response, kind: str = "ok") -> str:
    """What the page the answer leads to says in its flash (the reason of a refusal), as a reader sees it."""
    shown_kind, text = page.flash_after(answer)
    assert shown_kind == kind, (answer.headers["location"], text)
    return text


def refusal(page: Pages, answer: httpx.Response) -> str:
    return shown(page, answer, "error")


def issued_token(answer: httpx.Response) -> str:
    assert answer.status_code == 200, answer.text
    found = re.search(r'<p class="token" id="token"><code>([^<]+)</code>', answer.text)
    assert found, answer.text
    return found.group(1)


# ---- clusters, their contacts and applications ---------------------------------------------------


def test_an_officer_registers_a_cluster_and_lands_on_its_page(officer: Pages) -> None:
    answer = posted(officer, "/ui/clusters", **cluster_form(name="Oder Energy Cluster"))
    assert shown(officer, answer) == "cluster registered"
    assert answer.headers["location"].startswith("/ui/clusters/")
    assert "Oder Energy Cluster" in officer.get(answer.headers["location"]).text


def test_a_cluster_with_a_bad_website_is_refused_with_the_reason_and_not_registered(officer: Pages) -> None:
    answer = posted(officer, "/ui/clusters", **cluster_form(name="Nowhere Web Cluster", website="cluster.example"))
    assert "is not a web address" in refusal(officer, answer)
    assert "No cluster matches" in officer.get("/ui/clusters", params={"q": "Nowhere Web"}).text


def test_a_decider_may_not_register_a_cluster(decider: Pages) -> None:
    answer = posted(decider, "/ui/clusters", **cluster_form(name="Decided Cluster"))
    assert "only an officer" in refusal(decider, answer)
    assert "No cluster matches" in decider.get("/ui/clusters", params={"q": "Decided Cluster"}).text


def test_an_officer_adds_a_contact_who_is_shown_their_first_token_once(
    engine: RunningEngine, secretariat: Secretariat, officer: Pages
) -> None:
    cluster_id = secretariat.cluster()
    form = {"name": "Carla Contact", "email": f"carla.{uuid.uuid4().hex[:6]}@cluster.example.org"}
    token = issued_token(posted(officer, f"/ui/clusters/{cluster_id}/contacts", **form))
    me = secretariat.expect(engine.client(token).get("/me"), 200)
    assert me["name"] == "Carla Contact" and me["cluster_id"] == cluster_id

    again = posted(officer, f"/ui/clusters/{secretariat.cluster()}/contacts", **form)
    assert "already uses the e-mail address" in refusal(officer, again)


def test_an_officer_opens_an_application_from_the_clusters_page(secretariat: Secretariat, officer: Pages) -> None:
    cluster_id = secretariat.cluster()
    answer = posted(officer, f"/ui/clusters/{cluster_id}/applications", level="bronze")
    assert shown(officer, answer) == "application opened"
    case_id = answer.headers["location"].split("/")[3].split("?")[0]
    assert secretariat.case(case_id)["cluster_id"] == cluster_id


def test_an_ineligible_clusters_application_lists_every_unmet_criterion_and_opens_no_case(
    secretariat: Secretariat, officer: Pages
) -> None:
    cluster_id = secretariat.cluster(eccp_listed=False, members=3, staff_fte=0.2)
    reason = refusal(officer, posted(officer, f"/ui/clusters/{cluster_id}/applications", level="bronze"))
    assert "European Cluster Collaboration Platform" in reason
    assert "committed members" in reason and "FTE" in reason
    assert secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}"), 200)["open_cases"] == []


def test_a_contact_applies_from_the_portal_and_not_for_another_cluster(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    cluster_id, other = secretariat.cluster(), secretariat.cluster()
    portal = pages_as(engine, token_of(secretariat.contact(cluster_id, "Paula Portal")))
    applied = posted(portal, f"/ui/clusters/{cluster_id}/applications", level="bronze", back="/ui/portal")
    assert shown(portal, applied) == "application opened"

    refused = posted(portal, f"/ui/clusters/{other}/applications", level="bronze", back="/ui/portal")
    assert refused.headers["location"] == "/ui/portal"
    assert f"no cluster with id {other}" in refusal(portal, refused)
    assert secretariat.expect(secretariat.api.get(f"/clusters/{other}"), 200)["open_cases"] == []


def test_a_form_key_taken_from_another_callers_request_opens_the_senders_own_record(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    """A page's form key is its sender's: one an officer sent as an Idempotency-Key for another cluster finds
    nothing of theirs (the contact was told "application opened" and led to that cluster's case)."""
    theirs, ours = secretariat.cluster(), secretariat.cluster()
    key = f"apply-{uuid.uuid4().hex[:8]}"
    application = {"cluster_id": theirs, "level": "bronze"}
    their_case = secretariat.api.post("/applications", json=application, headers={"Idempotency-Key": key})
    portal = pages_as(engine, token_of(secretariat.contact(ours, "Kim Keyreuse")))

    applied = posted(portal, f"/ui/clusters/{ours}/applications", level="bronze", form_key=key)

    assert shown(portal, applied) == "application opened"
    assert secretariat.expect(their_case, 201)["case_id"] not in applied.headers["location"]
    assert len(secretariat.expect(secretariat.api.get(f"/clusters/{ours}"), 200)["open_cases"]) == 1


def test_a_back_address_off_the_pages_is_ignored(secretariat: Secretariat, officer: Pages) -> None:
    cluster_id = secretariat.cluster(eccp_listed=False)
    answer = posted(officer, f"/ui/clusters/{cluster_id}/applications", level="bronze", back="//evil.example/ui/x")
    assert answer.headers["location"] == f"/ui/clusters/{cluster_id}" and refusal(officer, answer)


def test_a_contact_lodges_an_appeal_against_a_refusal_from_the_case_page(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    cluster_id = secretariat.cluster()
    case_id = secretariat.apply(cluster_id)
    secretariat.to_decision(case_id)
    page = pages_as(engine, token_of(secretariat.contact(cluster_id, "Rudi Refused")))
    assert "Lodge appeal" not in page.get(f"/ui/cases/{case_id}").text  # nothing to appeal yet
    secretariat.decide(case_id, outcome="refuse")
    assert "Lodge appeal" in page.get(f"/ui/cases/{case_id}").text

    assert "grounds" in page.shown_again(posted(page, f"/ui/cases/{case_id}/appeal", grounds=""), 422)
    assert all(event["type"] != "AppealLodged" for event in secretariat.history(case_id))
    lodged = posted(page, f"/ui/cases/{case_id}/appeal", grounds="The scores overlook our new services.")
    assert shown(page, lodged) == "appeal recorded"
    assert "The scores overlook our new services." in page.get(f"/ui/cases/{case_id}").text


def test_a_contact_agrees_to_a_bronze_team_for_an_audit_by_video_from_the_case_page(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    """Only Bronze is audited by video (the price list): its agreement form offers the choice, and the
    agreement and its invoice carry the mode chosen; a Gold case's form offers none."""
    cluster_id = secretariat.cluster()
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    _, expert = secretariat.proposed_expert(case_id)
    secretariat.expect(expert.post(f"/cases/{case_id}/assignment", json={"accept": True}), 200)
    page = pages_as(engine, token_of(secretariat.contact(cluster_id, "Vera Video")))
    form = page.get(f"/ui/cases/{case_id}").text
    assert 'name="audit_mode"' in form and '<option value="video">by video</option>' in form

    agreed = posted(page, f"/ui/cases/{case_id}/agreement", agreed="true", audit_mode="video")

    assert shown(page, agreed) == "agreement recorded"
    agreement = next(e for e in secretariat.history(case_id) if e["type"] == "ClusterAgreedToExperts")
    assert agreement["data"]["audit_mode"] == "video"
    invoices = secretariat.expect(secretariat.api.get("/invoices", params={"cluster_id": cluster_id}), 200)
    assert [invoice["item"] for invoice in invoices] == ["Bronze label audit by video"]
    gold_case = secretariat.apply(secretariat.cluster(), level="gold")
    secretariat.screen(gold_case)
    officer = pages_as(engine, token_of(secretariat.member("Otto Officer", "officer")))
    gold_form = officer.get(f"/ui/cases/{gold_case}").text
    assert 'id="agreement"' in gold_form and 'name="audit_mode"' not in gold_form


# ---- experts --------------------------------------------------------------------------------------


def test_an_officer_registers_an_expert_who_is_shown_their_first_token(
    engine: RunningEngine, secretariat: Secretariat, officer: Pages
) -> None:
    form = {
        "name": "Erik Examiner",
        "email": f"erik.{uuid.uuid4().hex[:6]}@experts.example.org",
        "country": "SE",
        "languages": "en, sv",
        "certified_until": "2041-05-01",
    }
    token = issued_token(posted(officer, "/ui/experts", **form))
    expert_id = secretariat.expect(engine.client(token).get("/me"), 200)["expert_id"]
    expert = secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)
    # Certified through the day typed: its end is the next midnight, and the page prints the day typed.
    assert expert["languages"] == ["en", "sv"] and expert["certified_until"].startswith("2041-05-02T00:00:00")
    assert "until 1 May 2041" in officer.get(f"/ui/experts/{expert_id}").text

    for impossible in ("2041-02-30", "9999-12-31"):  # no such day; no day after it: a form error, not a 500
        answer = posted(officer, "/ui/experts", **{**form, "name": "Erik Never", "certified_until": impossible})
        assert "certified_until" in refusal(officer, answer)
    taken = posted(officer, "/ui/experts", **{**form, "name": "Erik Twice", "country": "NO"})
    assert "already uses the e-mail address" in refusal(officer, taken)
    assert "No expert matches" in officer.get("/ui/experts", params={"q": "Erik Twice"}).text


def test_an_officer_renews_and_revokes_a_certification_and_a_date_no_later_is_refused(
    secretariat: Secretariat, officer: Pages
) -> None:
    expert_id, _ = secretariat.expert(name="Frida Formrenewed", certified_until="2035-01-01T00:00:00Z")
    page = f"/ui/experts/{expert_id}"
    assert "not later than the current one" in refusal(officer, posted(officer, f"{page}/renewal", until="2034-12-31"))
    assert shown(officer, posted(officer, f"{page}/renewal", until="2036-02-01")) == "certification renewed"
    assert "reason: Field required" in refusal(officer, posted(officer, f"{page}/revocation"))
    assert secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)["revoked_at"] is None
    assert shown(officer, posted(officer, f"{page}/revocation", reason="left the pool")) == "certification revoked"
    expert = secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)
    assert expert["certified_until"].startswith("2036-02-02") and expert["revoked_at"]  # through 1 February


def test_an_officer_records_an_affiliation_and_a_decider_may_not(
    secretariat: Secretariat, officer: Pages, decider: Pages
) -> None:
    expert_id, _ = secretariat.expert(name="Gustav Grouped")
    cluster_id = secretariat.cluster(name="Saale Optics Cluster")
    path = f"/ui/experts/{expert_id}/affiliations"
    assert "only an officer" in refusal(decider, posted(decider, path, cluster_id=cluster_id))
    assert secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)["affiliations"] == []
    assert shown(officer, posted(officer, path, cluster_id=cluster_id)) == "affiliation recorded"
    assert "Saale Optics Cluster" in officer.get(f"/ui/experts/{expert_id}").text


# ---- labels ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def label_code(secretariat: Secretariat) -> str:
    label_id = secretariat.award(secretariat.apply(secretariat.cluster(name="Mosel Wine Cluster", country="DE")))
    return str(secretariat.label(label_id)["label_code"])


def test_an_officer_suspends_and_restores_a_label_and_a_label_in_force_is_not_restored(
    secretariat: Secretariat, officer: Pages, label_code: str
) -> None:
    page = f"/ui/labels/{label_code}"
    active = posted(officer, f"{page}/restoration", rationale="no reason to")
    assert f"cannot restore: label {label_code} is active" in refusal(officer, active)
    assert "reason: Field required" in refusal(officer, posted(officer, f"{page}/withdrawal"))
    assert secretariat.label(label_code)["state"] == "active"
    assert shown(officer, posted(officer, f"{page}/suspension", reason="complaint")) == "label suspended"
    assert secretariat.label(label_code)["state"] == "suspended"
    # The page asks why, also of a form sent without the browser's check (DOMAIN.md: every decision has its rationale).
    assert "rationale: " in refusal(officer, posted(officer, f"{page}/restoration", rationale="   "))
    assert secretariat.label(label_code)["state"] == "suspended"
    assert shown(officer, posted(officer, f"{page}/restoration", rationale="complaint unfounded")) == "label restored"
    assert secretariat.label(label_code)["state"] == "active"
    history = secretariat.expect(secretariat.api.get(f"/labels/{label_code}/history"), 200)["events"]
    assert [event["data"]["rationale"] for event in history if event["type"] == "Restored"] == ["complaint unfounded"]
    assert "complaint unfounded" in officer.read(page).text.split('id="timeline"')[1]


def test_a_contact_requests_their_labels_renewal_from_the_portal(
    engine: RunningEngine, secretariat: Secretariat, decider: Pages
) -> None:
    cluster_id = secretariat.cluster(name="Havel Timber Cluster")
    label_id = secretariat.award(secretariat.apply(cluster_id))
    code = secretariat.label(label_id)["label_code"]
    assert "only the cluster's contact or an officer" in refusal(decider, posted(decider, f"/ui/labels/{code}/renewal"))

    portal = pages_as(engine, token_of(secretariat.contact(cluster_id, "Hanna Havel")))
    answer = posted(portal, f"/ui/labels/{code}/renewal", back="/ui/portal")
    assert shown(portal, answer) == "renewal opened"
    assert secretariat.label(label_id)["renewal_case_id"] in answer.headers["location"]


# ---- accounts ---------------------------------------------------------------------------------


def test_an_administrator_opens_an_account_with_roles_and_an_officer_may_not(
    engine: RunningEngine, secretariat: Secretariat, admin: Pages, officer: Pages
) -> None:
    form = {"name": "Ines Intake", "email": f"ines.{uuid.uuid4().hex[:6]}@secretariat.example.org"}
    refused = posted(officer, "/ui/accounts", **form, roles=["officer"])
    assert "only an administrator" in refusal(officer, refused)
    assert secretariat.api.get("/accounts", params={"limit": 500}).text.count("Ines Intake") == 0

    token = issued_token(posted(admin, "/ui/accounts", **form, roles=["officer", "decider"]))
    assert secretariat.expect(engine.client(token).get("/me"), 200)["roles"] == ["decider", "officer"]


def test_an_administrator_grants_and_revokes_roles_and_deactivates_an_account(
    engine: RunningEngine, secretariat: Secretariat, admin: Pages
) -> None:
    secretariat.member("Jonas Joiner", "officer")
    account_id, token = engine.accounts["Jonas Joiner"]
    page = f"/ui/accounts/{account_id}"
    assert "an expert account speaks for one expert" in refusal(admin, posted(admin, f"{page}/roles", role="expert"))
    assert shown(admin, posted(admin, f"{page}/roles", role="appeals")) == "role granted"
    assert shown(admin, posted(admin, f"{page}/roles/officer/revocation")) == "role revoked"
    assert secretariat.expect(engine.client(token).get("/me"), 200)["roles"] == ["appeals"]

    assert shown(admin, posted(admin, f"{page}/deactivation", reason="left")) == "account deactivated"
    assert engine.client(token).get("/me").status_code == 401
    assert "deactivated" in refusal(admin, posted(admin, f"{page}/roles", role="decider"))


def test_an_administrator_chooses_the_language_of_a_persons_messages_from_the_account_page(
    engine: RunningEngine, secretariat: Secretariat, admin: Pages
) -> None:
    secretariat.member("Greta Germanic", "officer")
    account_id, token = engine.accounts["Greta Germanic"]
    page = f"/ui/accounts/{account_id}"

    assert shown(admin, posted(admin, f"{page}/language", language="de")) == "messages' language chosen"
    assert "<option selected>de</option>" in admin.get(page).text
    assert secretariat.expect(engine.client(token).get("/me"), 200)["language"] == "de"
    assert "messages are written in en, de" in refusal(admin, posted(admin, f"{page}/language", language="xx"))


def test_a_person_chooses_the_language_of_their_own_messages_from_their_inbox_and_no_one_elses(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    """Every message's footer says its reader chooses its language on their account: anyone signed in does so
    on their inbox, for their own account only."""
    cluster_id = secretariat.cluster()
    client = secretariat.contact(cluster_id, "Klara Kontakt")
    token = token_of(client)
    account_id = secretariat.expect(client.get("/me"), 200)["account_id"]
    contact = pages_as(engine, token)
    inbox = contact.get("/ui/inbox").text
    assert f'action="/ui/accounts/{account_id}/language"' in inbox and "<option selected>en</option>" in inbox

    chosen = posted(contact, f"/ui/accounts/{account_id}/language", language="de", back="/ui/inbox")

    assert chosen.headers["location"].startswith("/ui/inbox")
    assert shown(contact, chosen) == "messages' language chosen"
    assert secretariat.expect(engine.client(token).get("/me"), 200)["language"] == "de"
    assert "<option selected>de</option>" in contact.get("/ui/inbox").text
    officer_id, officer_token = _an_officer(secretariat, engine)
    someone_else = posted(contact, f"/ui/accounts/{officer_id}/language", language="de", back="/ui/inbox")
    assert "no account with id" in refusal(contact, someone_else)
    assert secretariat.expect(engine.client(officer_token).get("/me"), 200)["language"] == "en"


def _an_officer(secretariat: Secretariat, engine: RunningEngine) -> tuple[str, str]:
    secretariat.member("Ole Officer", "officer")
    return engine.accounts["Ole Officer"]


# ---- what each role is shown --------------------------------------------------------------------


def test_each_role_is_shown_only_the_forms_it_may_send(
    engine: RunningEngine,
    secretariat: Secretariat,
    officer: Pages,
    decider: Pages,
    admin: Pages,
    label_code: str,
) -> None:
    assert 'id="register-cluster"' in officer.get("/ui/clusters").text
    assert 'id="register-cluster"' not in decider.get("/ui/clusters").text
    assert 'id="suspend"' in officer.get(f"/ui/labels/{label_code}").text
    for_decider = decider.get(f"/ui/labels/{label_code}").text
    assert "Timeline" in for_decider and "<form" not in for_decider.split("</header>")[1]
    assert officer.get("/ui/accounts").status_code == 403 and admin.get("/ui/accounts").status_code == 200

    cluster_id = secretariat.label(label_code)["cluster_id"]
    contact = pages_as(engine, token_of(secretariat.contact(cluster_id, "Moritz Mosel")))
    for_contact = contact.get(f"/ui/labels/{label_code}").text
    assert 'id="renew"' in for_contact and 'id="suspend"' not in for_contact
    assert contact.get("/ui/clusters").status_code == 403 and officer.get("/ui/portal").status_code == 403


def test_a_list_pages_and_keeps_its_filters(secretariat: Secretariat, officer: Pages) -> None:
    for name in ("Paged Alpha Cluster", "Paged Beta Cluster", "Paged Gamma Cluster"):
        secretariat.cluster(name=name)
    first = officer.get("/ui/clusters", params={"q": "paged", "limit": 2}).text
    assert "Paged Alpha" in first and "Paged Beta" in first and "Paged Gamma" not in first
    following = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert following and "q=paged" in following.group(1)
    second = officer.get(html.unescape(following.group(1))).text
    assert "Paged Gamma" in second and "Paged Alpha" not in second and 'rel="prev"' in second
    assert 'rel="next"' not in second


def test_an_officer_records_a_qualification_and_a_dated_affiliation_from_the_experts_page(
    secretariat: Secretariat, officer: Pages
) -> None:
    expert_id, _ = secretariat.expert(name="Hedda Formqualified", levels=["bronze"])
    cluster_id = secretariat.cluster(name="Weser Wind Cluster")
    page = f"/ui/experts/{expert_id}"
    gold = {"level": "gold", "until": "2031-03-31", "training": "Gold team assessor course", "trained_on": "2026-03-01"}
    assert shown(officer, posted(officer, f"{page}/qualifications", **gold)) == "qualification recorded"
    consultancy = {"cluster_id": cluster_id, "since": "2019-01-01", "until": "2020-12-31"}
    assert shown(officer, posted(officer, f"{page}/affiliations", **consultancy)) == "affiliation recorded"

    expert = secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)
    assert [(held["level"], held["until"][:10]) for held in expert["qualifications"]][-1] == ("gold", "2031-04-01")
    assert expert["trainings"][0]["trained_on"].startswith("2026-03-01")
    assert expert["affiliation_periods"][0]["until"].startswith("2021-01-01")  # through 31 December
    text = officer.get(page).text
    assert "until 31 March 2031" in text
    assert "Gold qualification" in text and "Gold team assessor course" in text
