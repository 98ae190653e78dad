"""Hostile input and hostile callers: every bad value is a 4xx naming it and records nothing; the public
surface leaks nothing, cannot be framed or sniffed, and keeps answering while the views lag."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from interfaces.web.auth import COOKIE
from tests.e2e.driver import Secretariat, expert_body
from tests.e2e.engine import RunningEngine, running_engine

PUBLIC_URL = "https://labels.example.eu"
OUT_OF_RANGE = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+14:00", "1900-01-01T00:00:00Z", "2999-01-01T00:00:00Z"]
NOT_AN_INSTANT = ["2030-01-01T00:00:00", "2030-02-30T10:00:00Z", "tomorrow", "+020000-01-01T00:00:00Z", "1e400"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    from tests.e2e.engine import HOUR_POLICY

    env = {"CLUSTERLABEL_PUBLIC_URL": PUBLIC_URL}
    with running_engine(tmp_path_factory.mktemp("hostile") / "data", HOUR_POLICY, env=env) as running:
        yield running


@pytest.fixture(scope="module")
def auditing(secretariat: Secretariat) -> dict[str, Any]:
    """A case in audit, its expert, and the expert's page session."""
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    ((expert_id, expert),) = secretariat.staff(case_id)
    return {"case_id": case_id, "expert_id": expert_id, "expert": expert}


def refused(answer: httpx.Response, field: str) -> str:
    """The answer is a 422 whose problems name `field`; its messages."""
    assert answer.status_code == 422, (answer.request.url, answer.status_code, answer.text)
    problems = answer.json()["detail"]
    assert any(field in problem["loc"] for problem in problems), problems
    return "; ".join(problem["msg"] for problem in problems)


# ---- 16: instants --------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", OUT_OF_RANGE + NOT_AN_INSTANT)
def test_an_as_of_that_is_naive_or_out_of_range_is_422(secretariat: Secretariat, auditing: dict[str, Any], as_of: str) -> None:
    message = refused(secretariat.api.get(f"/cases/{auditing['case_id']}", params={"as_of": as_of}), "as_of")
    assert message
    refused(secretariat.api.get("/labels/ECEI-B-0000-0000-0000", params={"as_of": as_of}), "as_of")


@pytest.mark.parametrize("audit_date", OUT_OF_RANGE + NOT_AN_INSTANT)
def test_a_naive_or_out_of_range_audit_date_is_422_and_records_nothing(
    secretariat: Secretariat, auditing: dict[str, Any], audit_date: str
) -> None:
    case_id = auditing["case_id"]
    before = secretariat.history(case_id)
    refused(secretariat.api.post(f"/cases/{case_id}/audit-date", json={"audit_date": audit_date}), "audit_date")
    assert secretariat.history(case_id) == before


def test_an_aware_audit_date_in_range_is_kept_in_utc_and_every_history_still_reads(
    engine: RunningEngine, secretariat: Secretariat, auditing: dict[str, Any]
) -> None:
    case_id = auditing["case_id"]
    secretariat.expect(secretariat.api.post(f"/cases/{case_id}/audit-date", json={"audit_date": "2031-05-04T09:00:00-05:00"}), 200)
    scheduled = [event for event in secretariat.history(case_id) if event["type"] == "AuditScheduled"]
    assert scheduled[-1]["data"]["audit_date"].startswith("2031-05-04T14:00:00")
    cluster_id = secretariat.case(case_id)["cluster_id"]
    secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}/history"), 200)
    page = secretariat.api.get(f"/ui/cases/{case_id}", cookies={COOKIE: secretariat.api.headers["Authorization"][7:]})
    assert page.status_code == 200, page.text


@pytest.mark.parametrize("certified_until", OUT_OF_RANGE + NOT_AN_INSTANT)
def test_an_expert_certified_until_a_naive_or_out_of_range_date_is_422(secretariat: Secretariat, certified_until: str) -> None:
    name = f"Hostile {certified_until}"[:200]
    refused(secretariat.api.post("/experts", json=expert_body(name=name, certified_until=certified_until)), "certified_until")


# ---- 17: the assessment form -----------------------------------------------------------------


@pytest.mark.parametrize("score", ["²", "٣", "1" * 5000, "-" + "9" * 5000, "4.0", " ", "1_000", "0x10", "-1", "99"])
def test_a_hostile_score_in_the_assessment_form_is_a_form_error_and_records_nothing(
    engine: RunningEngine, secretariat: Secretariat, auditing: dict[str, Any], score: str
) -> None:
    case_id, expert_id = auditing["case_id"], auditing["expert_id"]
    page = engine.client(None)
    page.cookies.set(COOKIE, engine.experts[expert_id])
    form = {f"score:{item['code']}": str(item["score"]) for item in secretariat.full_scores("bronze")}
    form["score:B-STR-01"] = score
    answer = page.post(f"/ui/cases/{case_id}/assessment", data={**form, "report": "Hostile."})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(f"/ui/cases/{case_id}/assessment?error="), answer.headers["location"]
    assert secretariat.case(case_id)["state"] == "auditing"
    assert all(event["type"] != "AssessmentSubmitted" for event in secretariat.history(case_id))
