"""The audit's interview or visit through the HTTP API: scheduled inside the audit deadline and the team's
certification, recorded as held by the team's expert, and the label's two years counted from its month."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.driver import Secretariat
from tests.e2e.engine import HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.e2e.page_session import pages_as, token_of

# Calendar durations, so that the label's validity rounds to the month as it does in production.
VISIT_POLICY = {**HOUR_POLICY, "label_validity": "P2Y", "audit_deadline": "P30D"}
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    with running_engine(tmp_path_factory.mktemp("visit") / "data", VISIT_POLICY) as running:
        yield running


@pytest.fixture(scope="module")
def secretariat(engine: RunningEngine) -> Secretariat:
    secretariat = Secretariat(engine)
    until = (NOW + timedelta(days=20)).isoformat()
    secretariat.expert(name="Aaron Auditor", country="DE", certified_until=until)  # the one proposed
    return secretariat


def on(days: float) -> str:
    return (NOW + timedelta(days=days)).isoformat()


def refused(answer: Any, status: int, words: str) -> None:
    """Refused with `status`, the answer saying `words`."""
    assert answer.status_code == status, answer.text
    assert words in answer.text, answer.text


def test_an_audit_scheduled_held_and_assessed_counts_the_label_from_the_month_it_was_held(
    secretariat: Secretariat,
) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    ((_, expert),) = secretariat.staff(case_id)  # agreed on site, the default
    assert secretariat.case(case_id)["visit"] is None
    before = secretariat.history(case_id)

    def schedule(**body: Any) -> Any:
        return secretariat.api.post(f"/cases/{case_id}/audit-date", json=body)

    refused(schedule(audit_date=on(31), place="Riga"), 422, "before its deadline")
    refused(schedule(audit_date=on(25), place="Riga"), 422, "certification of Aaron Auditor")
    refused(schedule(audit_date=on(10)), 422, "needs its place")
    refused(schedule(audit_date=on(10), place="Riga", mode="video"), 422, "agreed to an audit on")
    assert secretariat.history(case_id) == before

    scheduled = secretariat.expect(schedule(audit_date=on(10), place="Riga harbour", duration="PT6H"), 200)
    visit = scheduled["visit"]
    assert (visit["mode"], visit["place"], visit["duration"], visit["held_on"]) == (
        "on_site",
        "Riga harbour",
        "PT6H",
        None,
    )
    assert datetime.fromisoformat(visit["audit_date"]) == NOW + timedelta(days=10)

    assessing = secretariat.full_scores("bronze")
    early = expert.post(f"/cases/{case_id}/assessment", json={"indicators": assessing, "report": "Seen."})
    refused(early, 409, "has not been held yet")
    _, outsider = secretariat.expert(name="Otto Outsider", country="AT")
    assert outsider.post(f"/cases/{case_id}/audit-held", json={}).status_code == 403
    refused(expert.post(f"/cases/{case_id}/audit-held", json={}), 422, "still ahead")

    held_on = datetime.now(UTC).replace(microsecond=0)  # the interview came forward: held today
    recorded = secretariat.expect(
        expert.post(f"/cases/{case_id}/audit-held", json={"held_on": held_on.isoformat()}), 200
    )
    assert datetime.fromisoformat(recorded["visit"]["held_on"]) == held_on
    assert secretariat.case(case_id)["visit"]["held_on"] == recorded["visit"]["held_on"]
    secretariat.assess(case_id, expert)
    decided = secretariat.decide(case_id)

    label_id = secretariat.wait_for(case_id, "the label", lambda case: case["label_id"])["label_id"]
    label = secretariat.label(label_id)
    next_month = (held_on.replace(day=1, hour=0, minute=0, second=0) + timedelta(days=32)).replace(day=1)
    assert datetime.fromisoformat(label["valid_until"]) == next_month.replace(year=next_month.year + 2)
    assert datetime.fromisoformat(label["valid_from"]) >= held_on  # from the decision, never before it
    assert decided["state"] == "awarded"


def test_an_officer_schedules_the_audit_from_the_case_page_in_utc(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    secretariat.staff(case_id)
    officer = pages_as(engine, token_of(secretariat.member("Olga Officer", "officer")))
    assert 'id="audit-date"' in officer.read(f"/ui/cases/{case_id}").text
    at = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)

    form = {"audit_date": at.strftime("%Y-%m-%dT%H:%M"), "mode": "", "place": "Riga", "duration": "PT4H"}
    answer = officer.post(f"/ui/cases/{case_id}/audit-date", form)

    assert officer.flash_after(answer) == ("ok", "audit date recorded")
    visit = secretariat.case(case_id)["visit"]
    assert datetime.fromisoformat(visit["audit_date"]) == at
    assert (visit["mode"], visit["place"], visit["duration"]) == ("on_site", "Riga", "PT4H")
    assert "Riga" in officer.read(f"/ui/cases/{case_id}").text


def test_the_team_expert_records_from_the_case_page_that_the_audit_was_held_on_its_date(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    ((_, expert),) = secretariat.staff(case_id)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    body = {"audit_date": soon.isoformat(), "mode": "on_site", "place": "Riga"}
    secretariat.expect(secretariat.api.post(f"/cases/{case_id}/audit-date", json=body), 200)
    pages = pages_as(engine, token_of(expert))

    page = pages.read(f"/ui/cases/{case_id}").text
    assert 'id="audit-held"' in page and "not held yet" in page and "Riga" in page
    eventually(lambda: datetime.now(UTC) > soon, 10, "the audit's date")
    answer = pages.post(f"/ui/cases/{case_id}/audit-held", {})

    assert pages.flash_after(answer) == ("ok", "audit held recorded")
    assert datetime.fromisoformat(secretariat.case(case_id)["visit"]["held_on"]) == soon
    assert 'id="audit-held"' not in pages.read(f"/ui/cases/{case_id}").text


def test_a_gold_renewal_is_scheduled_as_a_one_day_visit(secretariat: Secretariat) -> None:
    secretariat.expert(name="Asta National", country="LT", certified_until=on(400))
    secretariat.expert(name="Bodo Foreign", country="DE", certified_until=on(400))
    gold = secretariat.award(secretariat.apply(secretariat.cluster(country="LT"), "gold"), "gold")
    secretariat.expert(name="Cira National", country="LT", certified_until=on(400))  # the renewal rotates its team
    secretariat.expert(name="Dag Foreign", country="SE", certified_until=on(400))
    renewal = secretariat.expect(secretariat.api.post(f"/labels/{gold}/renewal"), 201)["case_id"]
    secretariat.screen(renewal)
    secretariat.staff(renewal, 2)

    def schedule(**body: Any) -> Any:
        return secretariat.api.post(
            f"/cases/{renewal}/audit-date", json={"audit_date": on(5), "place": "Vilnius", **body}
        )

    refused(schedule(duration="P2D"), 422, "a Gold renewal is a one-day visit")
    assert secretariat.expect(schedule(), 200)["visit"]["duration"] == "P1D"
