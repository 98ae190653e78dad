"""An expert whose certification has ended takes no step on a case, on the pages as through the API: a
proposal made while it was valid is neither declined nor accepted, and the form says why (403)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine
from tests.e2e.page_session import pages_as, token_of

ENDS_IN = timedelta(seconds=10)  # long enough to be proposed, short enough to wait for


def test_an_expert_whose_certification_ended_declines_a_proposal_neither_on_the_page_nor_through_the_api(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    until = datetime.now(UTC).replace(microsecond=0) + ENDS_IN
    # Named to sort first among the eligible experts, so that the case proposes her.
    expert_id, expert = secretariat.expert(name="Aafke Ending", country="NL", certified_until=until.isoformat())
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    assert secretariat.proposed_expert(case_id)[0] == expert_id
    pages = pages_as(engine, token_of(expert))
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 1)

    declined = pages.post(f"/ui/cases/{case_id}/assignment", {"accept": "false", "reason": "too busy"})

    assert "certification ended" in pages.shown_again(declined, 403)
    refused = expert.post(f"/cases/{case_id}/assignment", json={"accept": False, "reason": "too busy"})
    assert refused.status_code == 403 and "certification ended" in refused.json()["detail"], refused.text
    assert secretariat.case(case_id)["proposed_expert_id"] == expert_id  # nothing recorded


def test_an_expert_whose_certification_ended_keeps_no_draft_of_an_assessment_they_can_no_longer_submit(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    until = datetime.now(UTC).replace(microsecond=0) + ENDS_IN + ENDS_IN
    # Sorts before "Aaron Auditor", the first of the engine's experts (tests/e2e/conftest.py).
    expert_id, expert = secretariat.expert(name="Aaliyah Drafting", country="NL", certified_until=until.isoformat())
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    assert secretariat.staff(case_id)[0][0] == expert_id
    pages = pages_as(engine, token_of(expert))
    form_page = f"/ui/cases/{case_id}/assessment"
    assert pages.flash_after(pages.post(form_page, {"strengths": "Before.", "action": "draft"}))[0] == "ok"
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 1)

    refused = pages.post(form_page, {"strengths": "After it ended.", "action": "draft"})

    assert "certification ended" in pages.shown_again(refused, 403)
    form = pages.read(form_page).text
    assert "Before." in form and "After it ended." not in form  # the draft kept is the one saved in time
