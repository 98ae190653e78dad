"""A case waiting for something the engine cannot see change (an expert who becomes eligible with time
alone, the cause of an automatic step it kept being refused) is told to look again from its page: the
officer's "Look again" button, the same step as POST /cases/{id}/resume."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e import browser as chromium
from tests.e2e.driver import Secretariat
from tests.e2e.engine import ARTIFACTS, HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.e2e.page_session import pages_as, sign_in, token_of

NO_EXPERT = "no eligible expert"


@pytest.fixture(scope="module")
def secretariat(engine: RunningEngine) -> Secretariat:
    return Secretariat(engine)  # no expert registered: every case waits for one


def test_an_officer_has_a_waiting_case_look_again_from_its_page(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    cluster_id = secretariat.cluster()
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    waiting = secretariat.wait_for(case_id, "an escalation", lambda case: case["needs_attention"])
    assert [NO_EXPERT in reason for reason in waiting["attention"]] == [True]

    contact = pages_as(engine, token_of(secretariat.contact(cluster_id, "Carla Contact")))
    assert 'id="resume"' not in contact.read(f"/ui/cases/{case_id}").text, "the cluster does not steer the workflow"
    officer = pages_as(engine, token_of(secretariat.member("Olga Officer", "officer")))
    assert "Look again" in officer.read(f"/ui/cases/{case_id}").text

    answer = officer.post(f"/ui/cases/{case_id}/resume")
    assert officer.flash_after(answer) == ("ok", "the case looks again at what it waits for")
    # Still no one eligible: the case says so again (its history shows the look), and says it once.
    looked_again(secretariat, case_id)
    again = secretariat.case(case_id)
    assert [NO_EXPERT in reason for reason in again["attention"]] == [True] and again["state"] == "assigning"


def looked_again(secretariat: Secretariat, case_id: str) -> None:
    def escalations() -> int:
        return sum(event["type"] == "Escalated" for event in secretariat.history(case_id))

    eventually(lambda: escalations() == 2 or None, 30, "a second look")


@pytest.fixture(scope="module")
def late_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    """An engine whose screening is overdue seconds after an application."""
    policy = {**HOUR_POLICY, "screening_deadline": "PT3S"}
    with running_engine(tmp_path_factory.mktemp("late") / "data", policy) as running:
        yield running


def test_an_overdue_step_needs_attention_but_is_not_offered_a_look_again_that_would_not_take_it(
    late_engine: RunningEngine,
) -> None:
    secretariat = Secretariat(late_engine)
    case_id = secretariat.apply(secretariat.cluster(name="Late Filers Cluster"))
    overdue = secretariat.wait_for(case_id, "the overdue escalation", lambda case: case["needs_attention"])
    assert ["screening deadline" in reason for reason in overdue["attention"]] == [True]

    officer = pages_as(late_engine, token_of(secretariat.member("Olga Officer", "officer")))
    page = officer.read(f"/ui/cases/{case_id}").text
    assert "screening deadline" in page and 'id="resume"' not in page


def test_a_contact_may_not_have_the_case_look_again(engine: RunningEngine, secretariat: Secretariat) -> None:
    cluster_id = secretariat.cluster(name="Second Cluster")
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    secretariat.wait_for(case_id, "an escalation", lambda case: case["needs_attention"])
    contact = pages_as(engine, token_of(secretariat.contact(cluster_id, "Colin Contact")))
    contact.read(f"/ui/cases/{case_id}")
    answer = contact.post(f"/ui/cases/{case_id}/resume")
    assert contact.shown_again(answer, 403) == "only an officer of the secretariat may do this"


@pytest.mark.skipif(
    not chromium.available() and os.environ.get("CI") != "true",
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
)
def test_the_officer_sees_why_the_case_waits_and_has_it_look_again_in_the_browser(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id = secretariat.apply(secretariat.cluster(name="Third Cluster"))
    secretariat.screen(case_id)
    secretariat.wait_for(case_id, "an escalation", lambda case: case["needs_attention"])
    with chromium.headless_chromium() as browser:
        sign_in(browser, engine, token_of(secretariat.member("Otto Officer", "officer")), f"/ui/cases/{case_id}")
        assert NO_EXPERT in browser.text_with(".flash.error", "Needs attention")
        browser.screenshot(ARTIFACTS / "case-look-again.png")
        browser.click("#resume button")
        assert browser.text_with(".flash.ok", "looks again") == "the case looks again at what it waits for"
    looked_again(secretariat, case_id)
