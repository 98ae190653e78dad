"""Who may do what: the secretariat everything, an expert only their own cases, the public only the
registry and verification. 401 without a valid token, 403 for a forbidden action, both {"detail": ...}."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.driver import Secretariat, cluster_body, expert_body
from tests.e2e.engine import RunningEngine


@pytest.fixture(scope="module")
def awarded(secretariat: Secretariat) -> dict[str, str]:
    """A cluster with an awarded case, its label, and the expert who audited it."""
    cluster_id = secretariat.cluster(name="Danube Mobility Cluster", country="AT")
    case_id = secretariat.apply(cluster_id)
    team = secretariat.to_decision(case_id)
    secretariat.decide(case_id)
    label_id = secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"]
    return {"cluster_id": cluster_id, "case_id": case_id, "label_id": label_id, "expert_id": team[0][0]}


def test_without_a_valid_token_everything_but_the_public_pages_is_401(
    engine: RunningEngine, awarded: dict[str, str]
) -> None:
    anonymous = httpx.Client(base_url=engine.url)
    forged = engine.client("not-a-token")
    for client in (anonymous, forged):
        for method, path in [
            ("GET", f"/cases/{awarded['case_id']}"),
            ("GET", "/cases"),
            ("GET", f"/labels/{awarded['label_id']}"),
            ("GET", f"/cases/{awarded['case_id']}/history"),
            ("POST", "/clusters"),
            ("GET", "/indicators"),
        ]:
            answer = client.request(method, path, json={} if method == "POST" else None)
            assert answer.status_code == 401, (method, path, answer.text)
            assert isinstance(answer.json()["detail"], str)
            assert answer.headers["www-authenticate"] == "Bearer"
    assert anonymous.get("/registry").status_code == 200
    assert anonymous.get(f"/labels/{awarded['label_id']}/verify", params={"code": "X"}).status_code == 200


def test_an_expert_cannot_register_apply_screen_or_decide(secretariat: Secretariat, awarded: dict[str, str]) -> None:
    expert = secretariat.as_expert(awarded["expert_id"])
    assert expert.post("/clusters", json=cluster_body()).status_code == 403
    assert expert.post("/experts", json=expert_body()).status_code == 403
    assert (
        expert.post("/applications", json={"cluster_id": awarded["cluster_id"], "level": "bronze"}).status_code == 403
    )
    assert expert.post(f"/cases/{awarded['case_id']}/screening", json={"accepted": True}).status_code == 403
    assert expert.post(f"/labels/{awarded['label_id']}/suspension", json={"reason": "x"}).status_code == 403
    assert expert.get("/expiring").status_code == 403
    assert expert.get("/dashboard").status_code == 403


def test_nobody_who_took_part_in_the_audit_decides(secretariat: Secretariat) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    ((_, expert),) = secretariat.to_decision(case_id)
    decision = {"outcome": "award", "rationale": "I liked it"}
    by_expert = expert.post(f"/cases/{case_id}/decision", json=decision)
    assert by_expert.status_code == 403 and "only a decider" in by_expert.json()["detail"]
    by_machine_admin = secretariat.api.post(f"/cases/{case_id}/decision", json=decision)
    assert by_machine_admin.status_code == 403, by_machine_admin.text

    account_id = secretariat.expect(expert.get("/me"), 200)["account_id"]
    granted = secretariat.api.post(f"/accounts/{account_id}/roles", json={"role": "decider"})
    assert "decider" in secretariat.expect(granted, 200)["roles"]
    as_decider = expert.post(f"/cases/{case_id}/decision", json=decision)
    assert as_decider.status_code == 403, as_decider.text
    assert "took part in the audit" in as_decider.json()["detail"]
    assert secretariat.case(case_id)["state"] == "deciding"
    revoked = secretariat.api.delete(
        f"/accounts/{account_id}/roles/decider"
    )  # the engine's other tests share the expert
    assert secretariat.expect(revoked, 200)["roles"] == ["expert"]


def test_an_expert_sees_only_their_own_cases_and_those_clusters(
    secretariat: Secretariat, awarded: dict[str, str]
) -> None:
    outsider_id, outsider = secretariat.expert(name="Zed Outsider", country="FR")
    assert outsider.get(f"/cases/{awarded['case_id']}").status_code == 403
    assert outsider.get(f"/cases/{awarded['case_id']}/history").status_code == 403
    assert outsider.get(f"/clusters/{awarded['cluster_id']}/history").status_code == 403
    assert outsider.get(f"/labels/{awarded['label_id']}").status_code == 403
    assert outsider.get("/cases").json() == []
    assert outsider.get("/cases", params={"expert_id": awarded["expert_id"]}).status_code == 403
    assert outsider.get(f"/experts/{awarded['expert_id']}/workload").status_code == 403
    assert outsider.get(f"/experts/{outsider_id}/workload").status_code == 200

    auditor = secretariat.as_expert(awarded["expert_id"])
    assert auditor.get(f"/cases/{awarded['case_id']}").status_code == 200
    mine = [case["case_id"] for case in auditor.get("/cases").json()]
    assert awarded["case_id"] in mine
    events = auditor.get(f"/clusters/{awarded['cluster_id']}/history").json()["events"]
    issued = next(event for event in events if event["type"] == "Issued")
    assert "verification_code" not in issued["data"]
    label = auditor.get(f"/labels/{awarded['label_id']}").json()
    assert label["verification_code"] is None
    assert secretariat.label(awarded["label_id"])["verification_code"]


def test_only_the_proposed_expert_answers_a_proposal(secretariat: Secretariat) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    proposed_id, proposed = secretariat.proposed_expert(case_id)
    other_id = next(expert_id for expert_id in secretariat.engine.experts if expert_id != proposed_id)
    other = secretariat.as_expert(other_id)
    assert other.post(f"/cases/{case_id}/assignment", json={"accept": True}).status_code == 403
    assert secretariat.api.post(f"/cases/{case_id}/assignment", json={"accept": True}).status_code == 403
    declined = proposed.post(f"/cases/{case_id}/assignment", json={"accept": False, "reason": "on leave"})
    assert declined.status_code == 200, declined.text
    assert proposed.post(f"/cases/{case_id}/assignment", json={"accept": True}).status_code == 403
    assert secretariat.wait_for(
        case_id, "another proposal", lambda c: c["proposed_expert_id"] not in (None, proposed_id)
    )
