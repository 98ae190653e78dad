"""Whole lifecycles through the HTTP API on the real engine: application to verified label, refusal and
appeal, withdrawal, suspension, renewal."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine, eventually


def test_a_bronze_application_becomes_a_label_that_the_public_can_verify(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    cluster_id = secretariat.cluster(name="Baltic Marine Cluster", country="LT")
    case_id = secretariat.apply(cluster_id)
    opened = secretariat.case(case_id)
    assert (opened["state"], opened["kind"], opened["level"]) == ("screening", "initial", "bronze")

    screened = secretariat.screen(case_id)
    assert screened["state"] == "assigning"
    expert_id, expert = secretariat.proposed_expert(case_id)
    assert secretariat.expect(expert.post(f"/cases/{case_id}/assignment", json={"accept": True}), 200)[
        "expert_ids"
    ] == [expert_id]
    assert (
        secretariat.expect(secretariat.api.post(f"/cases/{case_id}/agreement", json={"agreed": True}), 200)["state"]
        == "auditing"
    )
    assessed = secretariat.assess(case_id, expert)
    assert (assessed["state"], assessed["recommended_level"]) == ("deciding", "bronze")
    assert secretariat.decide(case_id, decided_by="Maria Board")["state"] == "awarded"
    label_id = secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"]

    label = secretariat.label(label_id)
    assert (label["state"], label["level"], label["cluster_id"]) == ("active", "bronze", cluster_id)
    by_code = secretariat.label(label["label_code"])
    assert by_code["label_id"] == label_id

    public = httpx.Client(base_url=engine.url)
    verified = public.get(f"/labels/{label['label_code']}/verify", params={"code": label["verification_code"]}).json()
    assert (verified["status"], verified["level"], verified["cluster"]) == ("valid", "bronze", "Baltic Marine Cluster")
    assert public.get(f"/labels/{label_id}/verify", params={"code": "WRONGCODE1"}).json()["status"] == "unknown"
    registry = public.get("/registry", params={"country": "LT", "level": "bronze"}).json()
    assert label_id in [entry["label_id"] for entry in registry]

    history = secretariat.history(case_id)
    # Among the case's own events, its messages: the offer to the expert went out with its proposal.
    assert "MessageQueued" in [event["type"] for event in history]
    assert [event["type"] for event in history if not event["type"].startswith("Message")][:6] == [
        "Submitted",
        "Screened",
        "ExpertProposed",
        "ExpertAccepted",
        "AgreementRequested",
        "ClusterAgreedToExperts",
    ]
    assert [event["seq"] for event in history] == sorted(event["seq"] for event in history)
    assert {"actor", "at", "data"} <= set(history[0])
    cluster_events = secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}/history"), 200)["events"]
    assert {"Registered", "Submitted", "Issued"} <= {event["type"] for event in cluster_events}
    label_events = secretariat.expect(secretariat.api.get(f"/labels/{label_id}/history"), 200)["events"]
    assert label_events[0]["type"] == "Issued"

    # The case as it stood right after screening.
    screened_at = next(event["at"] for event in history if event["type"] == "Screened")
    then = secretariat.expect(secretariat.api.get(f"/cases/{case_id}", params={"as_of": screened_at}), 200)
    assert then["state"] == "assigning" and then["label_id"] is None
    before = secretariat.api.get(f"/cases/{case_id}", params={"as_of": "2000-01-01T00:00:00Z"})
    assert before.status_code == 404

    benchmark = secretariat.expect(secretariat.api.get(f"/cases/{case_id}/benchmark"), 200)
    assert len(benchmark["indicators"]) == 36
    workload = secretariat.expect(secretariat.api.get(f"/experts/{expert_id}/workload"), 200)
    assert case_id in [case["case_id"] for case in workload["cases"]]
    expiring = secretariat.expect(secretariat.api.get("/expiring", params={"within": "P90D"}), 200)
    assert label_id in [entry["label_id"] for entry in expiring["expiring"]]


def test_a_gold_case_needs_a_national_and_a_foreign_expert(secretariat: Secretariat) -> None:
    secretariat.expert(name="Aiste Auditor", country="LT")
    cluster_id = secretariat.cluster(country="LT")
    case_id = secretariat.apply(cluster_id, "gold")
    team = secretariat.to_decision(case_id, "gold")
    assert len(team) == 2
    assert secretariat.decide(case_id)["state"] == "awarded"
    label_id = secretariat.wait_for(case_id, "the gold label", lambda c: c["label_id"])["label_id"]
    assert secretariat.label(label_id)["level"] == "gold"


def test_a_refusal_can_be_appealed_and_decided_again_by_someone_else(secretariat: Secretariat) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.to_decision(case_id)
    maria = secretariat.member("Marta Board", "decider", "appeals")
    refused = secretariat.decide(case_id, "refuse", decided_by="Marta Board")
    assert refused["state"] == "refused" and "appeal" in refused["deadlines"]

    lodged = secretariat.api.post(f"/cases/{case_id}/appeal", json={"grounds": "The interview skipped our services."})
    assert secretariat.expect(lodged, 200)["state"] == "refused"
    same_person = maria.post(
        f"/cases/{case_id}/appeal/decision",
        json={"upheld": True, "rationale": "Fair point."},
    )
    assert same_person.status_code == 403, same_person.text
    assert "took the appealed decision" in same_person.json()["detail"]
    upheld = secretariat.member("Appeals Panel", "appeals").post(
        f"/cases/{case_id}/appeal/decision",
        json={"upheld": True, "rationale": "Services were overlooked."},
    )
    assert secretariat.expect(upheld, 200)["state"] == "deciding"
    again = maria.post(f"/cases/{case_id}/decision", json={"outcome": "award", "rationale": "Still fine."})
    assert again.status_code == 403 and "took the appealed decision" in again.json()["detail"]
    assert secretariat.decide(case_id, decided_by="Jonas Board")["state"] == "awarded"
    secretariat.wait_for(case_id, "the label after the appeal", lambda c: c["label_id"])


def test_a_rejected_or_withdrawn_case_takes_no_more_steps(secretariat: Secretariat) -> None:
    rejected = secretariat.apply(secretariat.cluster())
    assert secretariat.screen(rejected, accepted=False, reason="documents missing")["state"] == "rejected"
    again = secretariat.api.post(f"/cases/{rejected}/screening", json={"accepted": True})
    assert again.status_code == 409, again.text

    withdrawn = secretariat.apply(secretariat.cluster())
    secretariat.screen(withdrawn)
    answer = secretariat.api.post(f"/cases/{withdrawn}/withdrawal", json={"reason": "the cluster withdrew"})
    assert secretariat.expect(answer, 200)["state"] == "withdrawn"
    events_before = len(secretariat.history(withdrawn))
    late = secretariat.api.post(f"/cases/{withdrawn}/agreement", json={"agreed": True})
    assert late.status_code == 409, late.text
    assert len(secretariat.history(withdrawn)) == events_before


def test_a_suspended_label_does_not_verify_as_valid_until_restored(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    label_id = secretariat.award(secretariat.apply(secretariat.cluster(name="Alpine Wood Cluster", country="AT")))
    label = secretariat.label(label_id)
    public = httpx.Client(base_url=engine.url)

    def status() -> str:
        return str(
            public.get(f"/labels/{label_id}/verify", params={"code": label["verification_code"]}).json()["status"]
        )

    suspended = secretariat.api.post(f"/labels/{label_id}/suspension", json={"reason": "complaint under review"})
    assert secretariat.expect(suspended, 200)["state"] == "suspended"
    # The public reads answer from the view as it stands (X-View-Age): a moment behind a write.
    eventually(lambda: status() == "suspended", 10, "verify to say suspended")
    assert "valid" not in public.get(f"/labels/{label_id}/badge.svg").text.lower().replace("valid until", "")
    twice = secretariat.api.post(f"/labels/{label_id}/suspension", json={"reason": "again"})
    assert twice.status_code == 409, twice.text

    why = {"rationale": "the complaint proved unfounded"}
    assert (
        secretariat.expect(secretariat.api.post(f"/labels/{label_id}/restoration", json=why), 200)["state"] == "active"
    )
    eventually(lambda: status() == "valid", 10, "verify to say valid again")
    history = secretariat.expect(secretariat.api.get(f"/labels/{label_id}/history"), 200)["events"]
    assert [event["data"].get("rationale") for event in history if event["type"] == "Restored"] == [why["rationale"]]
    withdrawn = secretariat.api.post(
        f"/labels/{label['label_code']}/withdrawal", json={"reason": "misuse of the label"}
    )
    assert secretariat.expect(withdrawn, 200)["state"] == "withdrawn"
    eventually(lambda: status() == "withdrawn", 10, "verify to say withdrawn")
    restored = secretariat.api.post(f"/labels/{label_id}/restoration")
    assert restored.status_code == 409, restored.text


def test_a_label_is_renewed_by_a_renewal_case_that_supersedes_it(secretariat: Secretariat) -> None:
    label_id = secretariat.award(secretariat.apply(secretariat.cluster()))
    # The awarded case closes moments after its label is issued; until then the cluster still has an open
    # case at the level (409), as a contact renewing at once would see. Each try is a new request: one
    # sent again under the key of a refused one is answered as it was, refused.
    opened = eventually(
        lambda: (lambda answer: answer if answer.status_code != 409 else None)(
            secretariat.api.post(f"/labels/{label_id}/renewal", headers={"Idempotency-Key": uuid.uuid4().hex})
        ),
        what="the awarded case to close",
    )
    renewal = secretariat.expect(opened, 201)["case_id"]
    assert secretariat.case(renewal)["kind"] == "renewal"
    second = secretariat.api.post(f"/labels/{label_id}/renewal")
    assert second.status_code == 409, second.text

    new_label = secretariat.award(renewal)
    assert secretariat.label(new_label)["supersedes"] == label_id
    old = eventually(
        lambda: (lambda label: label if label["state"] == "superseded" else None)(secretariat.label(label_id)),
        what="superseded",
    )
    assert old["superseded_by"] == new_label


def test_cases_are_listed_by_state_cluster_and_expert(secretariat: Secretariat) -> None:
    cluster_id = secretariat.cluster()
    case_id = secretariat.apply(cluster_id)
    listed = secretariat.expect(secretariat.api.get("/cases", params={"cluster_id": cluster_id}), 200)
    assert [case["case_id"] for case in listed] == [case_id]
    screening = secretariat.expect(secretariat.api.get("/cases", params={"state": "screening"}), 200)
    assert case_id in [case["case_id"] for case in screening]
    assert secretariat.expect(secretariat.api.get("/cases", params={"overdue": True}), 200) == []
    dashboard = secretariat.expect(secretariat.api.get("/dashboard"), 200)
    assert dashboard["states"]["screening"] >= 1
    assert datetime.fromisoformat(listed[0]["submitted_at"])
