"""The secretariat's pages and the cluster's portal in a real browser (headless Chromium): an officer
registers a cluster and an expert and opens an application; a cluster's contact applies, follows the
case by the names of the people on it, agrees to the experts, reads the assessment and opens the
certificate; an administrator opens an account. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.e2e import browser as chromium
from tests.e2e.driver import Secretariat
from tests.e2e.engine import ARTIFACTS, RunningEngine
from tests.e2e.page_session import sign_in, token_of

pytestmark = pytest.mark.skipif(
    not chromium.available() and os.environ.get("CI") != "true",
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
)
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def browser() -> Iterator[chromium.Browser]:
    with chromium.headless_chromium() as running:
        yield running


@pytest.fixture(scope="module")
def officer_token(secretariat: Secretariat) -> str:
    return token_of(secretariat.member("Olga Officer", "officer"))


def test_an_officer_registers_a_cluster_and_an_expert_and_opens_an_application(
    engine: RunningEngine, secretariat: Secretariat, officer_token: str, browser: chromium.Browser
) -> None:
    sign_in(browser, engine, officer_token, "/ui/clusters")
    for field, value in [
        ("name", "Pomeranian Food Cluster"),
        ("country", "PL"),
        ("sector", "agrifood"),
        ("website", "https://food.example.pl"),
        ("members", "57"),
        ("staff_fte", "3.5"),
    ]:
        browser.type(f"#register-cluster #{field}", value)
    for kind in ("business", "research", "public"):
        browser.click(f"#register-cluster input[name=member_types][value={kind}]")
    browser.click("#register-cluster input[name=eccp_listed][value=true]")
    browser.click("#register-cluster button[type=submit]")
    browser.text_with(".flash", "cluster registered")
    assert browser.text("h1") == "Pomeranian Food Cluster"
    browser.screenshot(ARTIFACTS / "cluster.png")

    browser.click("#apply button[type=submit]")
    browser.text_with(".flash", "application opened")
    assert "screening" in browser.text("h1")
    assert "Olga Officer" in browser.text("#timeline")
    browser.screenshot(ARTIFACTS / "application.png")

    browser.go(f"{engine.url}/ui/search?q=pomeranian")
    assert "Pomeranian Food Cluster" in browser.text("#found-clusters")
    browser.screenshot(ARTIFACTS / "search.png")

    browser.go(f"{engine.url}/ui/experts")
    browser.type("#register-expert #name", "Petra Prüferin")
    browser.type("#register-expert #email", "petra.prueferin@experts.example.org")
    browser.type("#register-expert #country", "AT")
    browser.type("#register-expert #languages", "de, en")
    browser.run("document.querySelector('#certified_until').value = '2041-03-31';")
    browser.click("#register-expert button[type=submit]")
    browser.text_with(".flash", "expert registered")
    assert browser.text("#token")
    browser.screenshot(ARTIFACTS / "expert-token.png")
    browser.click("main a[href^='/ui/experts/']")
    browser.text_with("h1", "Petra Prüferin")
    assert "31 March 2041" in browser.text("#certification")
    browser.screenshot(ARTIFACTS / "expert.png")


def test_a_cluster_contact_applies_and_follows_the_case_by_name(
    engine: RunningEngine, secretariat: Secretariat, officer_token: str, browser: chromium.Browser
) -> None:
    cluster_id = secretariat.cluster(name="Lusatia Energy Cluster", country="DE")
    contact = secretariat.contact(cluster_id, "Lina Lausitz")
    sign_in(browser, engine, token_of(contact), "/ui/portal")
    assert browser.text("h1") == "Lusatia Energy Cluster" and "Cluster contact" in browser.text("header")
    browser.click("#apply button[type=submit]")
    browser.text_with(".flash", "application opened")
    case_id = browser.url.split("/ui/cases/")[1].split("?")[0]

    officer = secretariat.engine.client(officer_token)
    secretariat.expect(officer.post(f"/cases/{case_id}/screening", json={"accepted": True}), 200)
    expert_id, expert = secretariat.proposed_expert(case_id)
    secretariat.expect(expert.post(f"/cases/{case_id}/assignment", json={"accept": True}), 200)
    browser.go(f"{engine.url}/ui/cases/{case_id}")
    timeline = browser.text("#timeline")
    assert "Submitted" in timeline and "Lina Lausitz" in timeline and "Olga Officer" in timeline
    assert "Expert accepted: Aaron Auditor" in timeline
    assert not UUID_TEXT.search(timeline) and not UUID_TEXT.search(browser.text("#experts"))

    browser.click("#agreement button[value=true]")
    browser.text_with(".flash", "agreement recorded")
    assert "auditing" in browser.text("h1")
    assert "Cluster agreed to experts" in browser.text("#timeline")
    browser.screenshot(ARTIFACTS / "contact-case.png")
    browser.go(f"{engine.url}/ui/portal")
    assert "auditing" in browser.text("#cases")
    browser.screenshot(ARTIFACTS / "portal.png")
    assert expert_id


def test_a_contact_reads_the_assessment_once_decided_and_opens_the_certificate(
    engine: RunningEngine, secretariat: Secretariat, browser: chromium.Browser
) -> None:
    cluster_id = secretariat.cluster(name="Elbe Port Cluster", country="DE")
    case_id = secretariat.apply(cluster_id)
    label_id = secretariat.award(case_id)
    sign_in(browser, engine, token_of(secretariat.contact(cluster_id, "Elke Elbe")), f"/ui/cases/{case_id}")
    assert "Strong management, documented services." in browser.text("#assessment")
    browser.screenshot(ARTIFACTS / "contact-assessment.png")

    browser.go(f"{engine.url}/ui/portal")
    code = secretariat.label(label_id)["label_code"]
    browser.click(f"a[href='/ui/labels/{code}/certificate']")
    browser.text_with(".certificate", code)
    assert secretariat.label(label_id)["verification_code"] in browser.text(".certificate")
    browser.go(f"{engine.url}/ui/labels/{code}")
    assert browser.text("#renew button") == "Request renewal"
    browser.screenshot(ARTIFACTS / "contact-label.png")


def test_a_contact_of_an_ineligible_cluster_is_told_every_unmet_criterion(
    engine: RunningEngine, secretariat: Secretariat, browser: chromium.Browser
) -> None:
    cluster_id = secretariat.cluster(name="Tiny Craft Cluster", eccp_listed=False, members=4, staff_fte=0.3)
    sign_in(browser, engine, token_of(secretariat.contact(cluster_id, "Tomas Tiny")), "/ui/portal")
    assert "does not meet every criterion" in browser.text("#unmet")
    browser.click("#apply button[type=submit]")
    refusal = browser.text_with(".flash.error", "European Cluster Collaboration Platform").splitlines()
    assert len(refusal) == 3 and "committed members" in refusal[2] and "FTE" in refusal[1]
    assert browser.url == f"{engine.url}/ui/portal"  # the refusal travels in a cookie, not in the address
    assert "No case yet" in browser.text("#cases")
    browser.screenshot(ARTIFACTS / "portal-refused.png")


def test_an_administrator_opens_an_account_from_the_accounts_page(
    engine: RunningEngine, secretariat: Secretariat, browser: chromium.Browser
) -> None:
    sign_in(browser, engine, token_of(secretariat.member("Ada Admin", "admin")), "/ui/accounts")
    browser.type("#open-account #name", "Mira Minutes")
    browser.type("#open-account #email", "mira.minutes@secretariat.example.org")
    browser.click("#open-account input[name=roles][value=appeals]")
    browser.click("#open-account button[type=submit]")
    browser.text_with(".flash", "account opened")
    browser.click("main a[href^='/ui/accounts/']")
    browser.text_with("h1", "Mira Minutes")
    assert "appeals" in browser.text("#roles")
    browser.screenshot(ARTIFACTS / "account.png")
    browser.go(f"{engine.url}/ui/accounts")
    assert "Mira Minutes" in browser.text("#accounts")
    browser.screenshot(ARTIFACTS / "accounts.png")


def test_a_decider_refuses_and_the_appeals_panel_upholds_the_appeal_from_the_case_page(
    engine: RunningEngine, secretariat: Secretariat, browser: chromium.Browser
) -> None:
    case_id = secretariat.apply(secretariat.cluster(name="Warta Water Cluster", country="PL"))
    secretariat.to_decision(case_id)
    decision = "form[action$='/decision']:not([action$='/appeal/decision'])"

    sign_in(browser, engine, token_of(secretariat.member("Dora Decider", "decider")), f"/ui/cases/{case_id}")
    browser.run("document.querySelector(arguments[0] + ' select[name=outcome]').value = 'refuse'", decision)
    browser.type(f"{decision} textarea[name=rationale]", "The services are not yet documented.")
    browser.click(f"{decision} button")
    browser.text_with(".flash.ok", "decision recorded")
    assert secretariat.case(case_id)["state"] == "refused"
    assert "Dora Decider" in browser.text(".timeline")
    secretariat.expect(secretariat.api.post(f"/cases/{case_id}/appeal", json={"grounds": "They are."}), 200)

    sign_in(browser, engine, token_of(secretariat.member("Paul Panel", "appeals")), f"/ui/cases/{case_id}")
    appeal = "form[action$='/appeal/decision']"
    browser.type(f"{appeal} textarea[name=rationale]", "The annex documents them.")
    browser.click(f"{appeal} button[name=upheld][value=true]")
    browser.text_with(".flash.ok", "appeal decision recorded")
    assert secretariat.case(case_id)["state"] == "deciding"
    browser.screenshot(ARTIFACTS / "appeal-upheld.png")
