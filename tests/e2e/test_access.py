"""Who may do what: the secretariat everything, an expert only their own cases, the public only the
registry and verification. 401 without a valid token, 403 for a forbidden action, both {"detail": ...};
a record the caller may not see answers 404, exactly as an unknown id does."""

from __future__ import annotations

import html
import uuid

import httpx
import pytest

from tests.e2e.driver import REPORT, Secretariat, cluster_body, expert_body
from tests.e2e.engine import RunningEngine, eventually
from tests.e2e.pages_client import with_token


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
    assert outsider.get(f"/cases/{awarded['case_id']}").status_code == 404
    assert outsider.get(f"/cases/{awarded['case_id']}/history").status_code == 404
    assert outsider.get(f"/clusters/{awarded['cluster_id']}/history").status_code == 404
    assert outsider.get(f"/labels/{awarded['label_id']}").status_code == 404
    assert outsider.get("/cases").json() == []
    assert outsider.get("/cases", params={"expert_id": awarded["expert_id"]}).status_code == 403
    assert outsider.get(f"/experts/{awarded['expert_id']}/workload").status_code == 404
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
    assert other.post(f"/cases/{case_id}/assignment", json={"accept": True}).status_code == 404  # not theirs to see
    assert secretariat.api.post(f"/cases/{case_id}/assignment", json={"accept": True}).status_code == 403
    declined = proposed.post(f"/cases/{case_id}/assignment", json={"accept": False, "reason": "on leave"})
    assert declined.status_code == 200, declined.text
    # Having declined, the expert is no longer on the case: it is as unknown to them as to any outsider.
    assert proposed.post(f"/cases/{case_id}/assignment", json={"accept": True}).status_code == 404
    assert secretariat.wait_for(
        case_id, "another proposal", lambda c: c["proposed_expert_id"] not in (None, proposed_id)
    )


# ---- what an expert may not see answers as an unknown id ---------------------------------------


@pytest.fixture(scope="module")
def two_cases(secretariat: Secretariat) -> dict[str, str]:
    """One cluster, two cases: B awarded (its report, scores and label), and A, the renewal of B's label,
    proposed to an expert who never worked on B (rotation keeps B's auditor off the next round)."""
    cluster_id = secretariat.cluster()
    case_b = secretariat.apply(cluster_id)
    ((auditor_b, _),) = secretariat.to_decision(case_b)
    secretariat.decide(case_b)
    label_b = secretariat.wait_for(case_b, "the label", lambda c: c["label_id"])["label_id"]
    eventually(lambda: secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}"), 200)["open_cases"] == [])
    case_a = secretariat.expect(secretariat.api.post(f"/labels/{label_b}/renewal"), 201)["case_id"]
    secretariat.screen(case_a)
    expert_id, _ = secretariat.proposed_expert(case_a)
    assert expert_id != auditor_b
    return {"cluster_id": cluster_id, "case_a": case_a, "case_b": case_b, "label_b": label_b, "expert_id": expert_id}


def test_an_expert_reads_of_a_cluster_only_their_own_cases_events(
    secretariat: Secretariat, two_cases: dict[str, str]
) -> None:
    cluster_id, case_a = two_cases["cluster_id"], two_cases["case_a"]
    everything = secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}/history"), 200)["events"]
    assert {cluster_id, two_cases["case_b"], two_cases["label_b"]} < {event["aggregate_id"] for event in everything}
    assert REPORT in str(everything)

    expert = secretariat.as_expert(two_cases["expert_id"])
    events = secretariat.expect(expert.get(f"/clusters/{cluster_id}/history"), 200)["events"]
    assert events and {event["aggregate_id"] for event in events} == {case_a}
    assert REPORT not in str(events)
    assert not {"AssessmentSubmitted", "ReportSubmitted"} & {event["type"] for event in events}
    cluster = secretariat.expect(expert.get(f"/clusters/{cluster_id}"), 200)
    assert cluster["open_cases"] == [case_a] and cluster["labels"] == {}


def test_the_expert_of_a_labels_case_is_not_shown_the_renewal_case_they_may_not_see(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id = secretariat.apply(secretariat.cluster(name="Tagus Water Cluster", country="PT"))
    ((expert_id, _),) = secretariat.to_decision(case_id)
    secretariat.decide(case_id)
    label_id = secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"]
    opened = eventually(  # the awarded case closes moments after its label is issued: 409 until then
        lambda: (lambda answer: answer if answer.status_code != 409 else None)(
            secretariat.api.post(f"/labels/{label_id}/renewal", headers={"Idempotency-Key": uuid.uuid4().hex})
        ),
        what="the awarded case to close",
    )
    renewal = secretariat.expect(opened, 201)["case_id"]
    assert secretariat.label(label_id)["renewal_case_id"] == renewal

    expert = secretariat.as_expert(expert_id)
    assert expert.get(f"/cases/{renewal}").status_code == 404
    assert secretariat.expect(expert.get(f"/labels/{label_id}"), 200)["renewal_case_id"] is None
    history = secretariat.expect(expert.get(f"/labels/{label_id}/history"), 200)["events"]
    assert [event["data"] for event in history if event["type"] == "RenewalStarted"] == [{}]
    assert renewal not in str(history)
    page = with_token(engine, engine.experts[expert_id]).get(f"/ui/labels/{label_id}")
    assert page.status_code == 200 and renewal not in page.text


def test_a_record_an_expert_may_not_see_answers_exactly_as_an_unknown_id(
    engine: RunningEngine, secretariat: Secretariat, two_cases: dict[str, str]
) -> None:
    expert = secretariat.as_expert(two_cases["expert_id"])
    pages = with_token(engine, engine.experts[two_cases["expert_id"]])
    case_b, label_b, stranger = two_cases["case_b"], two_cases["label_b"], secretariat.cluster()
    nobody = str(uuid.uuid4())
    for client, hidden, path in [
        (expert, case_b, "/cases/{}"),
        (expert, case_b, "/cases/{}/history"),
        (expert, case_b, "/cases/{}/benchmark"),
        (expert, case_b, "/cases/{}/report"),
        (expert, case_b, "/cases/{}/report.pdf"),
        (expert, label_b, "/labels/{}"),
        (expert, label_b, "/labels/{}/history"),
        (expert, stranger, "/clusters/{}"),
        (expert, stranger, "/clusters/{}/history"),
        (pages, case_b, "/ui/cases/{}"),
        (pages, case_b, "/ui/cases/{}/assessment"),
        (pages, case_b, "/ui/cases/{}/report"),
        (pages, case_b, "/ui/cases/{}/report.pdf"),
    ]:
        seen, unknown = client.get(path.format(hidden)), client.get(path.format(nobody))
        assert seen.status_code == unknown.status_code == 404, (path, seen.text, unknown.text)
        assert seen.text.replace(hidden, "ID") == unknown.text.replace(nobody, "ID"), path
    assert secretariat.api.get(f"/cases/{nobody}").json() == {"detail": f"no case with id {nobody}"}


def test_an_expert_only_proposed_for_a_case_is_not_served_its_assessment_form(
    engine: RunningEngine, two_cases: dict[str, str]
) -> None:
    pages = with_token(engine, engine.experts[two_cases["expert_id"]])
    case_a = two_cases["case_a"]
    assert pages.get(f"/ui/cases/{case_a}").status_code == 200  # the case the proposal is about: visible

    form = pages.get(f"/ui/cases/{case_a}/assessment")

    assert form.status_code == 403 and "not on this case's team" in html.unescape(form.text), form.text[:300]
    assert 'id="assessment"' not in form.text


def test_a_step_on_a_case_an_expert_may_not_see_answers_exactly_as_an_unknown_id(
    secretariat: Secretariat, two_cases: dict[str, str]
) -> None:
    expert = secretariat.as_expert(two_cases["expert_id"])
    case_b, nobody = two_cases["case_b"], str(uuid.uuid4())
    assessment = {"indicators": secretariat.full_scores("bronze"), "report": "Seen from outside."}
    for step, body in [("assignment", {"accept": True}), ("assessment", assessment)]:
        seen = expert.post(f"/cases/{case_b}/{step}", json=body)
        unknown = expert.post(f"/cases/{nobody}/{step}", json=body)
        assert seen.status_code == unknown.status_code == 404, (step, seen.text)
        assert seen.text.replace(case_b, "ID") == unknown.text.replace(nobody, "ID"), step
    # A step of another role on a case the expert does see stays a 403.
    assert expert.post(f"/cases/{two_cases['case_a']}/screening", json={"accepted": True}).status_code == 403


def test_only_an_administrator_or_an_officer_reads_the_outbox_and_only_an_officer_retries_a_message(
    secretariat: Secretariat, engine: RunningEngine, awarded: dict[str, str]
) -> None:
    outbox = secretariat.expect(secretariat.api.get("/notifications", params={"case_id": awarded["case_id"]}), 200)
    offer = next(message for message in outbox if message["kind"] == "offer")
    officer, decider = secretariat.member("Olga Outbox", "officer"), secretariat.member("Dieter Outbox", "decider")
    expert = secretariat.as_expert(awarded["expert_id"])

    assert officer.get("/notifications").status_code == 200
    assert [client.get("/notifications").status_code for client in (decider, expert)] == [403, 403]
    assert httpx.Client(base_url=engine.url).get("/notifications").status_code == 401
    assert [client.post(f"/notifications/{offer['id']}/retry").status_code for client in (decider, expert)] == [403] * 2
