"""The pages in a real browser (headless Chromium): signing in with e-mail and password, the
secretariat's dashboard and a form on it, an expert's assessment form (signed in with a token), the
public verification page, a label's certificate and its PDF; screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e import browser as chromium
from tests.e2e.driver import Secretariat
from tests.e2e.engine import ADMIN_TOKEN, ARTIFACTS, ROOT, RunningEngine, eventually
from tests.e2e.pages_client import PASSWORD, person
from tests.pdf_reading import pdf_text

# Off CI a machine without Debian's chromium skips these; under CI a missing browser is a failure.
pytestmark = pytest.mark.skipif(
    not chromium.available() and os.environ.get("CI") != "true",
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
)
# The README's screenshot is refreshed only on request, so a test run leaves the checkout as it was.
README_SCREENSHOT = ROOT / "docs" / "screenshots" / "dashboard.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[chromium.Browser]:
    with chromium.headless_chromium() as running:
        yield running


def sign_in_with_token(browser: chromium.Browser, token: str) -> None:
    """The sign-in form's second way, for the machine administrator and scripts' owners: a token, posted."""
    browser.click("details summary")
    browser.type("#token", token)
    submit(browser, "#token-signin")


def submit(browser: chromium.Browser, form: str) -> None:
    """Submit the form and wait for the page it leads to (the address may stay as it was: a sign-in form
    shown in place of a page leads back to that page)."""
    browser.click(f"{form} button[type=submit]")
    eventually(lambda: browser.run(f"return document.querySelector({form!r}) === null"), 10, f"{form} to be gone")


@pytest.fixture(scope="module")
def scene(secretariat: Secretariat) -> dict[str, str]:
    """A secretariat's week: a label awarded, a case in audit, one waiting for screening, one rejected."""
    label_id = secretariat.award(secretariat.apply(secretariat.cluster(name="Baltic Marine Cluster", country="LT")))
    auditing = secretariat.apply(secretariat.cluster(name="Rhine Chemistry Network", country="DE"))
    secretariat.screen(auditing)
    ((expert_id, _),) = secretariat.staff(auditing)
    waiting = secretariat.apply(secretariat.cluster(name="Iberian Agrifood Cluster", country="ES"))
    rejected = secretariat.apply(secretariat.cluster(name="Alpine Tourism Cluster", country="AT"))
    secretariat.screen(rejected, accepted=False, reason="no English website")
    return {"label_id": label_id, "auditing": auditing, "expert_id": expert_id, "waiting": waiting}


def test_the_secretariat_screens_an_application_from_the_dashboard(
    engine: RunningEngine, secretariat: Secretariat, scene: dict[str, str], browser: chromium.Browser
) -> None:
    _, email = person(secretariat, "Selma Screener", "officer")
    browser.go(f"{engine.url}/ui/dashboard")
    assert "Sign in" in browser.text("h1")  # the sign-in form, in place of the dashboard
    browser.type("#email", email)
    browser.type("#password", PASSWORD)
    browser.screenshot(ARTIFACTS / "login.png")
    submit(browser, "#signin")
    assert browser.url == f"{engine.url}/ui/dashboard"
    page = browser.text()
    assert "Secretariat dashboard" in page and "Iberian Agrifood Cluster" in page
    browser.screenshot(
        ARTIFACTS / "dashboard.png", *([README_SCREENSHOT] if os.environ.get("CLUSTERLABEL_UPDATE_DOCS") else [])
    )

    browser.go(f"{engine.url}/ui/cases/{scene['waiting']}")
    assert "screening" in browser.text("h1")
    assert browser.text("#deadline").startswith("screening:") and "overdue" not in browser.text("#deadline")
    browser.click("button[name=accepted][value=true]")
    assert "screening recorded" in browser.text_with(".flash", "screening recorded")
    assert "screening" not in browser.text("#deadline")  # met: only the deadline the case works against shows
    browser.screenshot(ARTIFACTS / "case.png")
    assert secretariat.case(scene["waiting"])["state"] == "assigning"


def test_an_expert_fills_in_the_assessment_form(
    engine: RunningEngine, secretariat: Secretariat, scene: dict[str, str], browser: chromium.Browser
) -> None:
    browser.click("#sign-out")
    # Signed out before going on: else the sign-out's own page may land after the next address.
    assert "Signed out" in browser.text_with(".flash", "Signed out")
    browser.go(f"{engine.url}/ui/assignments")
    sign_in_with_token(browser, engine.experts[scene["expert_id"]])
    assert browser.url == f"{engine.url}/ui/assignments"
    assert "Rhine Chemistry Network" in browser.text()
    browser.click(f"a[href='/ui/cases/{scene['auditing']}/assessment']")
    assert "Assessment" in browser.text("h1")
    filled = browser.run(
        "const inputs = document.querySelectorAll('input[type=number]');"
        "inputs.forEach(input => { input.value = input.max; });"
        "return inputs.length;"
    )
    assert filled == 36
    browser.type("#report", "Governance and services are well documented.")
    browser.screenshot(ARTIFACTS / "assessment.png")
    browser.click("#assessment button[type=submit]")
    assert "assessment recorded" in browser.text_with(".flash", "assessment recorded")
    assert secretariat.case(scene["auditing"])["state"] == "deciding"


def test_the_public_verifies_a_certificate_and_sees_the_badge(
    engine: RunningEngine, secretariat: Secretariat, scene: dict[str, str], browser: chromium.Browser
) -> None:
    label = secretariat.label(scene["label_id"])
    browser.click("#sign-out")
    assert "Signed out" in browser.text_with(".flash", "Signed out")
    browser.go(f"{engine.url}/ui/verify")
    browser.type("#label", label["label_code"])
    browser.type("#code", label["verification_code"])
    browser.click("#verify button")
    verdict = browser.text("#verdict")
    assert "valid" in verdict and "Baltic Marine Cluster" in verdict
    browser.screenshot(ARTIFACTS / "verify.png")

    browser.go(f"{engine.url}/ui/verify?label={label['label_code']}&code=NOTTHECODE")
    assert "not genuine" in browser.text("#verdict")

    badge = httpx.get(f"{engine.url}/labels/{label['label_code']}/badge.svg")
    assert badge.headers["content-type"].startswith("image/svg+xml")
    assert "valid until" in badge.text and "/ui/verify?label=" in badge.text
    browser.go(f"{engine.url}/ui/labels/{label['label_code']}/certificate")
    assert "Baltic Marine Cluster" in browser.text(".certificate")
    expert = secretariat.expect(secretariat.api.get(f"/experts/{label['expert_ids'][0]}"), 200)
    assert expert["name"] in browser.text(".certificate") and "Renewable until" in browser.text(".certificate")
    assert label["verification_code"] not in browser.text(".certificate")  # the public never reads the code
    browser.go(f"{engine.url}/ui/dashboard")
    sign_in_with_token(browser, ADMIN_TOKEN)
    browser.go(f"{engine.url}/ui/labels/{label['label_code']}/certificate")
    assert label["verification_code"] in browser.text(".certificate")
    browser.screenshot(ARTIFACTS / "certificate.png")


def test_the_certificate_page_downloads_its_pdf_in_the_language_it_shows(
    engine: RunningEngine,
    secretariat: Secretariat,
    scene: dict[str, str],
    browser: chromium.Browser,
    tmp_path: Path,
) -> None:
    label = secretariat.label(scene["label_id"])
    browser.go(f"{engine.url}/ui/labels/{label['label_code']}/certificate")  # signed in as the secretariat
    browser.click("a[hreflang=de]")
    browser.text_with(".certificate", "Gültig bis")
    browser.screenshot(ARTIFACTS / "certificate-de.png")

    text = pdf_text(browser.download("#certificate-pdf", tmp_path).read_bytes())
    assert label["label_code"] in text and "Baltic Marine Cluster" in text and "Gültig bis" in text
    assert label["verification_code"] in text  # the secretariat's copy carries it; the public's does not


def test_an_officer_suspends_a_label_and_restores_it_saying_why(
    engine: RunningEngine, secretariat: Secretariat, scene: dict[str, str], browser: chromium.Browser
) -> None:
    code = secretariat.label(scene["label_id"])["label_code"]
    browser.go(f"{engine.url}/ui/labels/{code}")  # signed in as the secretariat
    browser.type("#suspend input[name=reason]", "a complaint about the label's use is investigated")
    browser.click("#suspend button")
    browser.text_with(".flash", "label suspended")
    browser.type("#restore input[name=rationale]", "the complaint concerned another cluster")
    browser.screenshot(ARTIFACTS / "label-restoration.png")
    browser.click("#restore button")

    browser.text_with(".flash", "label restored")
    assert "the complaint concerned another cluster" in browser.text("#timeline")
    assert secretariat.label(code)["state"] == "active"


def test_anyone_gets_a_certificate_pdf_and_a_clear_answer_for_a_language_or_label_there_is_none_for(
    engine: RunningEngine, secretariat: Secretariat, scene: dict[str, str]
) -> None:
    code = secretariat.label(scene["label_id"])["label_code"]
    english = httpx.get(f"{engine.url}/labels/{code}/certificate.pdf")
    assert english.status_code == 200 and english.headers["content-type"] == "application/pdf"
    assert code in pdf_text(english.content) and "Baltic Marine Cluster" in pdf_text(english.content)
    assert "Valid until" in pdf_text(english.content)
    assert "European Secretariat for Cluster Analysis (ESCA)" in pdf_text(english.content)  # the issuer setting
    assert "Gültig bis" in pdf_text(httpx.get(f"{engine.url}/labels/{code}/certificate.pdf?lang=de").content)

    klingon = httpx.get(f"{engine.url}/labels/{code}/certificate.pdf?lang=tlh")
    assert klingon.status_code == 422
    assert "choose one of: en, de" in klingon.json()["detail"][0]["msg"]
    unknown = httpx.get(f"{engine.url}/labels/ECEI-B-0000-0000-0000/certificate.pdf")
    assert unknown.status_code == 404
