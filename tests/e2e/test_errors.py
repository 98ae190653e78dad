"""Every refusal has its code and names what is wrong; a refused write changes nothing."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.driver import Secretariat, cluster_body, expert_body
from tests.e2e.engine import RunningEngine, eventually


def fields(answer: httpx.Response) -> list[list[object]]:
    assert answer.status_code == 422, answer.text
    return [problem["loc"] for problem in answer.json()["detail"]]


def test_an_ineligible_cluster_is_refused_with_every_unmet_criterion(secretariat: Secretariat) -> None:
    cluster_id = secretariat.cluster(eccp_listed=False, members=3, member_types=["business"], staff_fte=0.1)
    answer = secretariat.api.post("/applications", json={"cluster_id": cluster_id, "level": "bronze"})
    assert answer.status_code == 422, answer.text
    messages = [problem["msg"] for problem in answer.json()["detail"]]
    assert len(messages) == 4
    assert any("European Cluster Collaboration Platform" in message for message in messages)
    assert any("FTE" in message for message in messages)
    assert any("members" in message for message in messages)
    assert any("type" in message for message in messages)
    assert secretariat.expect(secretariat.api.get("/cases", params={"cluster_id": cluster_id}), 200) == []


def test_bad_bodies_are_422_naming_every_offending_field(secretariat: Secretariat) -> None:
    wrong_types = secretariat.api.post(
        "/clusters", json=cluster_body(members="many", staff_fte="lots", eccp_listed="perhaps")
    )
    assert {"members", "staff_fte", "eccp_listed"} <= {loc[-1] for loc in fields(wrong_types)}
    unknown = secretariat.api.post("/clusters", json={**cluster_body(), "colour": "blue"})
    assert ["body", "colour"] in fields(unknown)
    missing = secretariat.api.post("/clusters", json={"name": "Only a name"})
    assert {"country", "sector", "website", "members", "member_types", "staff_fte", "eccp_listed"} <= {
        loc[-1] for loc in fields(missing)
    }
    bad_country = secretariat.api.post("/experts", json=expert_body(country="XX", languages=["english"]))
    assert {"country", "languages"} <= {loc[1] for loc in fields(bad_country)}
    naive = secretariat.api.post("/experts", json=expert_body(certified_until="2030-01-01T00:00:00"))
    assert ["body", "certified_until"] in fields(naive)
    not_json = secretariat.api.post("/clusters", content=b"{not json", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    array = secretariat.api.post("/clusters", json=[1, 2, 3])
    assert array.status_code == 422
    level = secretariat.api.post("/applications", json={"cluster_id": str(uuid.uuid4()), "level": "platinum"})
    assert ["body", "level"] in fields(level)
    bad_key = secretariat.api.post("/clusters", json=cluster_body(), headers={"Idempotency-Key": "no spaces allowed"})
    assert ["header", "Idempotency-Key"] in fields(bad_key)
    bad_query = secretariat.api.get("/cases", params={"state": "sleeping", "limit": 0})
    assert {"state", "limit"} <= {loc[-1] for loc in fields(bad_query)}
    within = secretariat.api.get("/expiring", params={"within": "ninety days"})
    assert ["query", "within"] in fields(within)


def test_an_assessment_must_cover_the_catalogue_exactly(secretariat: Secretariat) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    ((_expert_id, expert),) = secretariat.staff(case_id)
    scores = secretariat.full_scores("bronze")

    missing = expert.post(f"/cases/{case_id}/assessment", json={"indicators": scores[:-2], "report": "ok"})
    assert missing.status_code == 422
    assert sum("has no score" in problem["msg"] for problem in missing.json()["detail"]) == 2
    wrong = [dict(item) for item in scores]
    wrong[0]["score"] = 99
    wrong[1]["code"] = "B-XXX-99"
    wrong.append(dict(scores[2]))
    answer = expert.post(f"/cases/{case_id}/assessment", json={"indicators": wrong, "report": "ok"})
    locs = fields(answer)
    assert ["body", "indicators", 0, "score"] in locs
    assert ["body", "indicators", 1, "code"] in locs
    assert ["body", "indicators", len(wrong) - 1, "code"] in locs
    typed = expert.post(
        f"/cases/{case_id}/assessment", json={"indicators": [{"code": "B-STR-01", "score": "high"}], "report": ""}
    )
    assert {("indicators", 0, "score"), ("report",)} <= {tuple(loc[1:]) for loc in fields(typed)}
    assert secretariat.case(case_id)["state"] == "auditing"
    assert all(event["type"] != "AssessmentSubmitted" for event in secretariat.history(case_id))


def test_an_oversized_body_is_413(secretariat: Secretariat) -> None:
    huge = cluster_body(name="x" * 300_000)
    assert secretariat.api.post("/clusters", json=huge).status_code == 413

    def chunks():  # no Content-Length: the limit counts what actually arrives
        yield b'{"name": "'
        for _ in range(40):
            yield b"y" * 10_000
        yield b'"}'

    streamed = secretariat.api.post("/clusters", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413, streamed.text
    assert "detail" in streamed.json()


def test_unknown_ids_are_404(engine: RunningEngine, secretariat: Secretariat) -> None:
    nobody = str(uuid.uuid4())
    for path in [
        f"/cases/{nobody}",
        f"/cases/{nobody}/history",
        f"/clusters/{nobody}",
        f"/clusters/{nobody}/history",
        f"/labels/{nobody}",
        "/labels/ECEI-B-0000-0000-0000",
        "/labels/not-a-label",
        f"/experts/{nobody}/workload",
    ]:
        answer = secretariat.api.get(path)
        assert answer.status_code == 404, (path, answer.text)
        assert isinstance(answer.json()["detail"], str)
    cluster_id = secretariat.cluster()  # a record that exists, but is no case
    not_a_case = secretariat.api.get(f"/cases/{cluster_id}/history")
    assert not_a_case.status_code == 404, not_a_case.text
    assert not_a_case.json()["detail"] == f"no case with id {cluster_id}"
    assert secretariat.api.post(f"/cases/{nobody}/screening", json={"accepted": True}).status_code == 404
    assert secretariat.api.post(f"/labels/{nobody}/suspension", json={"reason": "x"}).status_code == 404
    assert secretariat.api.post("/applications", json={"cluster_id": nobody, "level": "bronze"}).status_code == 404
    unknown = httpx.get(f"{engine.url}/labels/ECEI-B-0000-0000-0000/verify", params={"code": "ABC"}).json()
    assert unknown["status"] == "unknown"


def test_a_step_out_of_turn_is_409_and_records_nothing(secretariat: Secretariat) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    before = secretariat.history(case_id)
    decider, panel = secretariat.member("Board Member", "decider"), secretariat.member("Appeals Panel", "appeals")
    for path, body, who in [
        ("agreement", {"agreed": True}, secretariat.api),
        ("decision", {"outcome": "award", "rationale": "early"}, decider),
        ("appeal", {"grounds": "not refused yet"}, secretariat.api),
        ("appeal/decision", {"upheld": True, "rationale": "no appeal"}, panel),
    ]:
        answer = who.post(f"/cases/{case_id}/{path}", json=body)
        assert answer.status_code == 409, (path, answer.text)
        assert "screening" in answer.json()["detail"]
    assert secretariat.history(case_id) == before
    cluster_id = secretariat.case(case_id)["cluster_id"]
    second = secretariat.api.post("/applications", json={"cluster_id": cluster_id, "level": "bronze"})
    assert second.status_code == 409, second.text


def test_an_idempotency_key_makes_a_retried_write_happen_once(secretariat: Secretariat) -> None:
    body = cluster_body()
    first = secretariat.api.post("/clusters", json=body, headers={"Idempotency-Key": "cluster-42"})
    again = secretariat.api.post("/clusters", json=body, headers={"Idempotency-Key": "cluster-42"})
    assert first.json() == again.json()
    cluster_id = first.json()["cluster_id"]
    apply = {"cluster_id": cluster_id, "level": "bronze"}
    case_id = secretariat.api.post("/applications", json=apply, headers={"Idempotency-Key": "apply-42"}).json()[
        "case_id"
    ]
    assert (
        secretariat.api.post("/applications", json=apply, headers={"Idempotency-Key": "apply-42"}).json()["case_id"]
        == case_id
    )
    for _ in range(2):
        answer = secretariat.api.post(
            f"/cases/{case_id}/screening", json={"accepted": True}, headers={"Idempotency-Key": "screen-42"}
        )
        assert answer.status_code == 200, answer.text
    assert [event["type"] for event in secretariat.history(case_id)].count("Screened") == 1


def closed_for_steps(api: httpx.Client, path: str, body: dict[str, object]) -> bool:
    """A fresh step is refused because the workflow has ended (not merely because it is out of turn)."""
    answer = api.post(path, json=body)
    return answer.status_code == 409 and "takes no more steps" in answer.json()["detail"]


def test_a_retried_step_answers_as_the_first_did_after_the_case_workflow_has_ended(secretariat: Secretariat) -> None:
    # A withdrawal closes the case at once (a rejection waits out its appeal window first).
    case_id = secretariat.apply(secretariat.cluster())
    withdrawal = {"reason": "Outside the programme's scope."}
    key = {"Idempotency-Key": "withdraw-43"}
    first = secretariat.expect(secretariat.api.post(f"/cases/{case_id}/withdrawal", json=withdrawal, headers=key), 200)
    screening = {"accepted": True}
    eventually(lambda: closed_for_steps(secretariat.api, f"/cases/{case_id}/screening", screening), 30, "closed")

    again = secretariat.api.post(f"/cases/{case_id}/withdrawal", json=withdrawal, headers=key)

    assert again.status_code == 200, again.text
    assert again.json()["state"] == first["state"] == "withdrawn"
    assert [event["type"] for event in secretariat.history(case_id)].count("Withdrawn") == 1


def test_a_retried_label_step_answers_as_the_first_did_after_the_label_workflow_has_ended(
    secretariat: Secretariat,
) -> None:
    label_id = secretariat.award(secretariat.apply(secretariat.cluster()))
    key = {"Idempotency-Key": "withdraw-label-43"}
    withdrawal = {"reason": "The cluster ceased operating."}
    first = secretariat.expect(
        secretariat.api.post(f"/labels/{label_id}/withdrawal", json=withdrawal, headers=key), 200
    )
    eventually(
        lambda: closed_for_steps(secretariat.api, f"/labels/{label_id}/suspension", {"reason": "x"}), 30, "ended"
    )

    again = secretariat.api.post(f"/labels/{label_id}/withdrawal", json=withdrawal, headers=key)

    assert again.status_code == 200, again.text
    assert again.json()["state"] == first["state"] == "withdrawn"
