"""A cluster's contact acts for their own cluster: applies, agrees to the proposed experts, requests a
renewal of its label and reads its certificate's code; another cluster's records answer as unknown."""

from __future__ import annotations

import pytest

from tests.e2e.driver import REPORT, Secretariat, cluster_body
from tests.e2e.engine import RunningEngine, eventually
from tests.e2e.page_session import pages_as, token_of


@pytest.fixture(scope="module")
def labelled(secretariat: Secretariat) -> dict[str, str]:
    """A cluster holding a bronze label, with no case open any more."""
    cluster_id = secretariat.cluster(name="Vistula Logistics Cluster", country="PL")
    label_id = secretariat.award(secretariat.apply(cluster_id))
    eventually(lambda: secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}"), 200)["open_cases"] == [])
    return {"cluster_id": cluster_id, "label_id": label_id}


def test_a_contact_records_their_clusters_agreement_to_the_experts(secretariat: Secretariat) -> None:
    cluster_id = secretariat.cluster()
    contact = secretariat.contact(cluster_id, "Ola Contact")
    case_id = secretariat.expect(
        contact.post("/applications", json={"cluster_id": cluster_id, "level": "bronze"}), 201
    )["case_id"]
    secretariat.screen(case_id)
    _, expert = secretariat.proposed_expert(case_id)
    secretariat.expect(expert.post(f"/cases/{case_id}/assignment", json={"accept": True}), 200)

    agreed = secretariat.expect(contact.post(f"/cases/{case_id}/agreement", json={"agreed": True}), 200)

    assert agreed["state"] == "auditing"
    account_id = secretariat.expect(contact.get("/me"), 200)["account_id"]
    agreement = next(event for event in secretariat.history(case_id) if event["type"] == "ClusterAgreedToExperts")
    assert agreement["actor"] == f"account:{account_id}"


def test_another_clusters_contact_cannot_agree_and_an_expert_still_may_not(secretariat: Secretariat) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    _, expert = secretariat.proposed_expert(case_id)
    stranger = secretariat.contact(secretariat.cluster(), "Sven Stranger")

    assert stranger.post(f"/cases/{case_id}/agreement", json={"agreed": True}).status_code == 404
    refused = expert.post(f"/cases/{case_id}/agreement", json={"agreed": True})
    assert refused.status_code == 403 and "contact or an officer" in refused.json()["detail"]
    assert all(event["type"] != "ClusterAgreedToExperts" for event in secretariat.history(case_id))


def test_a_contact_requests_the_renewal_of_their_label(secretariat: Secretariat, labelled: dict[str, str]) -> None:
    contact = secretariat.contact(labelled["cluster_id"], "Rita Renewer")
    stranger = secretariat.contact(secretariat.cluster(), "Sam Stranger")
    assert stranger.post(f"/labels/{labelled['label_id']}/renewal").status_code == 404

    case_id = secretariat.expect(contact.post(f"/labels/{labelled['label_id']}/renewal"), 201)["case_id"]

    renewal = secretariat.case(case_id)
    assert renewal["kind"] == "renewal" and renewal["cluster_id"] == labelled["cluster_id"]


def test_the_labels_own_contact_reads_its_verification_code_and_another_does_not(
    secretariat: Secretariat, labelled: dict[str, str]
) -> None:
    contact = secretariat.contact(labelled["cluster_id"], "Vera Verifier")
    code = secretariat.label(labelled["label_id"])["verification_code"]
    assert code and secretariat.expect(contact.get(f"/labels/{labelled['label_id']}"), 200)["verification_code"] == code
    stranger = secretariat.contact(secretariat.cluster(), "Olaf Outsider")
    assert stranger.get(f"/labels/{labelled['label_id']}").status_code == 404


def test_a_contact_reads_the_assessment_and_report_only_once_the_case_is_decided(secretariat: Secretariat) -> None:
    cluster_id = secretariat.cluster()
    contact = secretariat.contact(cluster_id, "Petra Patient")
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    _, expert = secretariat.proposed_expert(case_id)
    secretariat.expect(expert.post(f"/cases/{case_id}/assignment", json={"accept": True}), 200)
    agreement = {"Idempotency-Key": "agreed-at-the-kick-off"}
    secretariat.expect(contact.post(f"/cases/{case_id}/agreement", json={"agreed": True}, headers=agreement), 200)
    assert secretariat.assess(case_id, expert)["recommended_level"] == "bronze"

    pending = contact.get(f"/cases/{case_id}/history").text
    assert REPORT not in pending and "B-STR-01" not in pending
    assert contact.get(f"/cases/{case_id}/benchmark").status_code == 409
    assert REPORT not in contact.get(f"/clusters/{cluster_id}/history").text
    # The case itself, and the answer to the agreement sent again (a retry answers with the case now), alike.
    retried = contact.post(f"/cases/{case_id}/agreement", json={"agreed": True}, headers=agreement)
    for case in (secretariat.expect(contact.get(f"/cases/{case_id}"), 200), secretariat.expect(retried, 200)):
        assert case["state"] == "deciding" and case["recommended_level"] is None and case["signed_by"] == []

    secretariat.decide(case_id)
    assert REPORT in contact.get(f"/cases/{case_id}/history").text
    assert contact.get(f"/cases/{case_id}/benchmark").status_code == 200
    assert secretariat.expect(contact.get(f"/cases/{case_id}"), 200)["recommended_level"] == "bronze"


def test_a_case_withdrawn_after_its_assessment_shows_its_contact_no_signatures_in_the_list_either(
    secretariat: Secretariat,
) -> None:
    """Withdrawn before its decision, the case was never decided: its list entry hides what the case hides."""
    cluster_id = secretariat.cluster()
    contact = secretariat.contact(cluster_id, "Wanda Withdrawn")
    case_id = secretariat.apply(cluster_id)
    secretariat.to_decision(case_id)
    withdrawn = secretariat.api.post(f"/cases/{case_id}/withdrawal", json={"reason": "the cluster merged"})
    assert secretariat.expect(withdrawn, 200)["state"] == "withdrawn"

    assert secretariat.expect(contact.get(f"/cases/{case_id}"), 200)["signed_by"] == []
    listed = eventually(
        lambda: next((c for c in contact.get("/cases").json() if c["state"] == "withdrawn"), None),
        10,
        "the withdrawn case in the contact's list",
    )
    assert listed["case_id"] == case_id and listed["signed_by"] == []


def test_a_case_decided_then_overturned_on_appeal_and_withdrawn_shows_its_contact_the_signatures_in_the_list_too(
    secretariat: Secretariat,
) -> None:
    """Once decided, the assessment was the cluster's to read; an upheld appeal and a withdrawal since take
    nothing back, in the case as in its list entry."""
    cluster_id = secretariat.cluster()
    contact = secretariat.contact(cluster_id, "Abel Appellant")
    case_id = secretariat.apply(cluster_id)
    [(expert_id, _)] = secretariat.to_decision(case_id)
    secretariat.decide(case_id, "refuse")
    secretariat.expect(contact.post(f"/cases/{case_id}/appeal", json={"grounds": "Scores misread."}), 200)
    panel = secretariat.member("Paula Panel", "appeals")
    upheld = panel.post(f"/cases/{case_id}/appeal/decision", json={"upheld": True, "rationale": "Misread."})
    assert secretariat.expect(upheld, 200)["state"] == "deciding"
    withdrawn = secretariat.api.post(f"/cases/{case_id}/withdrawal", json={"reason": "the cluster merged"})
    assert secretariat.expect(withdrawn, 200)["state"] == "withdrawn"

    assert secretariat.expect(contact.get(f"/cases/{case_id}"), 200)["signed_by"] == [expert_id]
    listed = eventually(
        lambda: next((c for c in contact.get("/cases").json() if c["state"] == "withdrawn"), None),
        10,
        "the withdrawn case in the contact's list",
    )
    assert listed["case_id"] == case_id and listed["signed_by"] == [expert_id]


def test_a_contact_who_is_also_an_expert_acts_for_their_own_cluster_alone(secretariat: Secretariat) -> None:
    """One account speaks for a cluster and for the expert who audited another cluster: it reads that
    other cluster's case and label as their auditor, and takes none of that cluster's steps (403)."""
    own_cluster, audited_cluster = secretariat.cluster(), secretariat.cluster()
    case_id = secretariat.apply(audited_cluster)
    [(expert_id, _)] = secretariat.to_decision(case_id)
    secretariat.decide(case_id)
    label_id = secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"]
    body = {"name": "Dual Dora", "email": f"dora.{expert_id[:8]}@cluster.example.org", "roles": ["expert", "cluster"]}
    account = {**body, "expert_id": expert_id, "cluster_id": own_cluster}
    dual = secretariat.engine.client(secretariat.expect(secretariat.api.post("/accounts", json=account), 201)["token"])
    assert secretariat.expect(dual.get(f"/cases/{case_id}"), 200)["state"] == "awarded"
    name = secretariat.expect(secretariat.api.get(f"/clusters/{audited_cluster}"), 200)["name"]

    for answer in [
        dual.post(f"/labels/{label_id}/renewal"),
        dual.post(f"/labels/{label_id}/appeal", json={"grounds": "The suspension was unfair."}),
        dual.post(f"/cases/{case_id}/appeal", json={"grounds": "The decision was unfair."}),
        dual.put(f"/clusters/{audited_cluster}/profile", json=cluster_body(name="Renamed By Its Auditor")),
    ]:
        assert answer.status_code == 403 and "contact" in answer.json()["detail"], answer.text
    assert secretariat.label(label_id)["renewal_case_id"] is None
    assert secretariat.expect(secretariat.api.get(f"/clusters/{audited_cluster}"), 200)["name"] == name


def test_a_contact_who_is_also_an_expert_lists_their_own_clusters_cases_and_is_offered_no_step_on_another(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    own_cluster, audited_cluster = secretariat.cluster(), secretariat.cluster()
    audited = secretariat.apply(audited_cluster)
    [(expert_id, _)] = secretariat.to_decision(audited)
    secretariat.decide(audited, outcome="refuse")  # appealable: its contact would be offered the appeal
    own = secretariat.apply(own_cluster)
    body = {"name": "Dual Dan", "email": f"dan.{expert_id[:8]}@cluster.example.org", "roles": ["expert", "cluster"]}
    account = {**body, "expert_id": expert_id, "cluster_id": own_cluster}
    dual = secretariat.engine.client(secretariat.expect(secretariat.api.post("/accounts", json=account), 201)["token"])

    listed = secretariat.expect(dual.get("/cases", params={"cluster_id": own_cluster}), 200)
    assert [case["case_id"] for case in listed] == [own]  # before, the cases it audits on that cluster (none)
    audits = [case["case_id"] for case in secretariat.expect(dual.get("/cases"), 200)]
    assert audited in audits and own not in audits  # unasked, the cases it is on (this module's expert)
    on_audited = secretariat.expect(dual.get("/cases", params={"cluster_id": audited_cluster}), 200)
    assert [case["case_id"] for case in on_audited] == [audited]  # as its auditor: the cases it is on

    page = pages_as(engine, token_of(dual)).read(f"/ui/cases/{audited}").text
    assert "Lodge appeal" not in page and "Actions" not in page  # the audited cluster's steps are not theirs
    assert (
        "Lodge appeal"
        in pages_as(engine, token_of(secretariat.contact(audited_cluster, "Ida Contact")))
        .read(f"/ui/cases/{audited}")
        .text
    )


def test_an_administrator_grants_no_role_to_their_own_account(secretariat: Secretariat) -> None:
    admin = secretariat.member("Ada Self", "admin")
    account_id = secretariat.engine.accounts["Ada Self"][0]
    refused = admin.post(f"/accounts/{account_id}/roles", json={"role": "decider"})
    assert refused.status_code == 403 and "their own account" in refused.json()["detail"]
    assert secretariat.expect(admin.get("/me"), 200)["roles"] == ["admin"]


def test_a_contact_reports_a_change_that_breaks_a_criterion_and_the_secretariat_reviews_the_label(
    secretariat: Secretariat,
) -> None:
    cluster_id = secretariat.cluster(name="Warta Textile Cluster", country="PL")
    label_id = secretariat.award(secretariat.apply(cluster_id))
    eventually(lambda: secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}"), 200)["open_cases"] == [])
    contact = secretariat.contact(cluster_id, "Tomasz Contact")
    profile = secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}"), 200)
    changed = {name: profile[name] for name in ("name", "country", "sector", "website", "member_types", "eccp_listed")}
    changed |= {"members": 9, "staff_fte": profile["staff_fte"]}
    stranger = secretariat.contact(secretariat.cluster(), "Stan Stranger")
    assert stranger.put(f"/clusters/{cluster_id}/profile", json=changed).status_code == 404

    updated = secretariat.expect(contact.put(f"/clusters/{cluster_id}/profile", json=changed), 200)

    assert updated["members"] == 9
    review = updated["review"]
    assert review["label_ids"] == [label_id] and "9 committed members" in review["criteria"][0]
    assert secretariat.label(label_id)["state"] == "active"  # the label stands while it is reviewed
    told = eventually(
        lambda: [
            m
            for m in secretariat.expect(secretariat.api.get("/notifications"), 200)
            if m["kind"] == "eligibility_review"
        ]
    )
    assert [message["recipient"] for message in told] == ["secretariat"]  # told once
    assert (
        contact.post(
            f"/clusters/{cluster_id}/review/closure", json={"outcome": "labels_stand", "reason": "x"}
        ).status_code
        == 403
    )

    closing = {"outcome": "labels_stand", "reason": "Members rejoin after the merger; checked again in March."}
    closed = secretariat.expect(secretariat.api.post(f"/clusters/{cluster_id}/review/closure", json=closing), 200)
    assert closed["review"] is None
    again = secretariat.api.post(f"/clusters/{cluster_id}/review/closure", json=closing)
    assert again.status_code == 409 and "no eligibility review open" in again.json()["detail"]
