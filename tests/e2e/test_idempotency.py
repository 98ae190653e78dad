"""An Idempotency-Key stands for one request: repeated, it is carried out once; reused for another, it is refused.

The key is remembered with the request's fingerprint (caller, method, path, canonical body) once the
write succeeded; another request under the same key answers 422 naming the header and records nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from tests.e2e.driver import Secretariat, cluster_body

KEY_LOC = ["header", "Idempotency-Key"]


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def refused_for_its_key(answer: httpx.Response) -> bool:
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert "different request" in problem["msg"]
    return bool(problem["loc"] == KEY_LOC)


def cases_of(secretariat: Secretariat, cluster_id: str) -> list[Any]:
    return secretariat.expect(secretariat.api.get("/cases", params={"cluster_id": cluster_id}), 200)


def test_a_key_reused_for_an_application_for_another_cluster_is_refused_and_opens_no_case(
    secretariat: Secretariat,
) -> None:
    first_cluster, other_cluster, key = secretariat.cluster(), secretariat.cluster(), keyed(uuid.uuid4().hex)
    first = secretariat.api.post("/applications", json={"cluster_id": first_cluster, "level": "bronze"}, headers=key)
    assert first.status_code == 201, first.text

    reused = secretariat.api.post("/applications", json={"cluster_id": other_cluster, "level": "bronze"}, headers=key)

    assert refused_for_its_key(reused)
    assert cases_of(secretariat, other_cluster) == []
    assert [case["case_id"] for case in cases_of(secretariat, first_cluster)] == [first.json()["case_id"]]


def test_the_same_body_with_other_whitespace_and_key_order_answers_as_the_first_time(
    secretariat: Secretariat,
) -> None:
    body, key = cluster_body(), keyed(uuid.uuid4().hex)
    compact = json.dumps(body, separators=(",", ":"))
    spread = json.dumps(dict(reversed(list(body.items()))), indent=4)
    json_type = {"Content-Type": "application/json"}

    first = secretariat.api.post("/clusters", content=compact, headers={**key, **json_type})
    again = secretariat.api.post("/clusters", content=spread, headers={**key, **json_type})

    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()


def test_a_key_reused_on_another_path_is_refused(secretariat: Secretariat) -> None:
    key = keyed(uuid.uuid4().hex)
    cluster_id = secretariat.expect(secretariat.api.post("/clusters", json=cluster_body(), headers=key), 201)[
        "cluster_id"
    ]
    reused = secretariat.api.post("/applications", json={"cluster_id": cluster_id, "level": "bronze"}, headers=key)
    assert refused_for_its_key(reused)
    assert cases_of(secretariat, cluster_id) == []


def test_another_caller_reusing_a_key_is_refused_rather_than_answered_with_the_first_callers_result(
    secretariat: Secretariat,
) -> None:
    body, key = cluster_body(), keyed(uuid.uuid4().hex)
    secretariat.expect(secretariat.api.post("/clusters", json=body, headers=key), 201)
    other_officer = secretariat.member("Otis Otherofficer", "officer")
    assert refused_for_its_key(other_officer.post("/clusters", json=body, headers=key))


def test_a_caller_who_may_not_take_the_step_hears_so_before_anything_about_the_key(
    secretariat: Secretariat,
) -> None:
    body, key = cluster_body(), keyed(uuid.uuid4().hex)
    secretariat.expect(secretariat.api.post("/clusters", json=body, headers=key), 201)
    _, expert = secretariat.expert()
    assert expert.post("/clusters", json=body, headers=key).status_code == 403
    anonymous = httpx.post(f"{secretariat.engine.url}/clusters", json=body, headers=key)
    assert anonymous.status_code == 401


def test_a_refused_first_request_does_not_burn_its_key(secretariat: Secretariat) -> None:
    ineligible = secretariat.cluster(eccp_listed=False)
    eligible, key = secretariat.cluster(), keyed(uuid.uuid4().hex)
    invalid = secretariat.api.post("/applications", json={"cluster_id": eligible, "level": "platinum"}, headers=key)
    assert invalid.status_code == 422, invalid.text
    refused = secretariat.api.post("/applications", json={"cluster_id": ineligible, "level": "bronze"}, headers=key)
    assert refused.status_code == 422, refused.text

    accepted = secretariat.api.post("/applications", json={"cluster_id": eligible, "level": "bronze"}, headers=key)

    assert accepted.status_code == 201, accepted.text
    assert cases_of(secretariat, ineligible) == []


def test_a_step_retried_with_its_key_is_taken_once_and_another_step_under_it_is_refused(
    secretariat: Secretariat,
) -> None:
    case_id, key = secretariat.apply(secretariat.cluster()), keyed(uuid.uuid4().hex)
    screening = {"accepted": True, "reason": "complete"}
    for _ in range(2):
        secretariat.expect(secretariat.api.post(f"/cases/{case_id}/screening", json=screening, headers=key), 200)
    withdrawal = {"reason": "under the screening's key"}
    assert refused_for_its_key(secretariat.api.post(f"/cases/{case_id}/withdrawal", json=withdrawal, headers=key))
    assert secretariat.case(case_id)["state"] != "withdrawn"
    assert [event["type"] for event in secretariat.history(case_id)].count("Screened") == 1


def test_a_keyed_write_streamed_past_the_size_limit_is_refused_with_413_and_leaves_its_key_free(
    secretariat: Secretariat,
) -> None:
    key = keyed(uuid.uuid4().hex)

    def chunks() -> Iterator[bytes]:  # no Content-Length: only counting the chunks finds it too large
        yield b'{"name": "' + b"x" * 200_000
        yield b"x" * 200_000 + b'"}'

    too_large = secretariat.api.post("/clusters", content=chunks(), headers={**key, "Content-Type": "application/json"})

    assert too_large.status_code == 413, too_large.text
    secretariat.expect(secretariat.api.post("/clusters", json=cluster_body(), headers=key), 201)
