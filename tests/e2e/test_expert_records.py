"""The secretariat keeps an expert's record: renews or revokes the certification and records the
clusters the expert is affiliated with; only an officer may, and a refusal records nothing."""

from __future__ import annotations

import uuid

from tests.e2e.driver import Secretariat


def test_an_officer_revokes_then_renews_an_experts_certification(secretariat: Secretariat) -> None:
    expert_id, expert = secretariat.expert(name="Rolf Renewed", certified_until="2030-01-01T00:00:00Z")
    base = f"/experts/{expert_id}"

    revoked = secretariat.expect(secretariat.api.post(f"{base}/revocation", json={"reason": "missed training"}), 200)
    assert revoked["revoked_at"] is not None
    renewal = {"until": "2033-01-01T00:00:00Z"}
    renewed = secretariat.expect(secretariat.api.post(f"{base}/certification/renewal", json=renewal), 200)

    assert renewed["revoked_at"] is None and renewed["certified_until"].startswith("2033-01-01")
    assert secretariat.expect(expert.get(f"/experts/{expert_id}"), 200)["certified_until"].startswith("2033-01-01")


def test_a_renewal_that_ends_no_later_is_422_and_records_nothing(secretariat: Secretariat) -> None:
    expert_id, _ = secretariat.expert(name="Nina Notlater", certified_until="2035-01-01T00:00:00Z")
    answer = secretariat.api.post(f"/experts/{expert_id}/certification/renewal", json={"until": "2034-01-01T00:00:00Z"})
    assert answer.status_code == 422, answer.text
    assert "not later than the current one" in str(answer.json()["detail"])
    assert secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)["certified_until"].startswith("2035")


def test_an_officer_records_an_affiliation_and_an_unknown_cluster_is_404(secretariat: Secretariat) -> None:
    expert_id, _ = secretariat.expert(name="Alma Affiliated")
    cluster_id = secretariat.cluster()
    declared = secretariat.expect(
        secretariat.api.post(f"/experts/{expert_id}/affiliations", json={"cluster_id": cluster_id}), 200
    )
    assert declared["affiliations"] == [cluster_id]

    nowhere = str(uuid.uuid4())
    answer = secretariat.api.post(f"/experts/{expert_id}/affiliations", json={"cluster_id": nowhere})
    assert answer.status_code == 404 and answer.json() == {"detail": f"no cluster with id {nowhere}"}
    unknown = secretariat.api.post(f"/experts/{uuid.uuid4()}/affiliations", json={"cluster_id": cluster_id})
    assert unknown.status_code == 404


def test_only_an_officer_keeps_an_experts_record(secretariat: Secretariat) -> None:
    expert_id, expert = secretariat.expert(name="Otto Ownrecord")
    decider = secretariat.member("Dana Decider", "decider")
    for caller in (expert, decider):
        answer = caller.post(f"/experts/{expert_id}/revocation", json={"reason": "self-serve"})
        assert answer.status_code == 403, answer.text
    assert secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)["revoked_at"] is None


def test_an_expert_registered_for_bronze_is_qualified_for_gold_after_the_training_an_officer_records(
    secretariat: Secretariat,
) -> None:
    expert_id, expert = secretariat.expert(
        name="Greta Goldcourse", levels=["bronze"], certified_until="2031-01-01T00:00:00Z"
    )
    registered = secretariat.expect(expert.get(f"/experts/{expert_id}"), 200)
    assert [held["level"] for held in registered["qualifications"]] == ["bronze"]

    gold = {"level": "gold", "until": "2032-06-30T00:00:00Z", "training": "Gold team assessor course"}
    qualified = secretariat.expect(secretariat.api.post(f"/experts/{expert_id}/qualifications", json=gold), 200)
    assert {held["level"]: held["until"][:10] for held in qualified["qualifications"]} == {
        "bronze": "2031-01-01",
        "gold": "2032-06-30",
    }
    assert [(t["level"], t["training"], t["until"][:10]) for t in qualified["trainings"]] == [
        ("gold", "Gold team assessor course", "2032-06-30")
    ]

    earlier = gold | {"until": "2032-01-01T00:00:00Z", "training": "a shorter one"}
    answer = secretariat.api.post(f"/experts/{expert_id}/qualifications", json=earlier)
    assert answer.status_code == 422 and "already qualified for gold until 2032-06-29" in answer.text  # its last day
    assert secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)["trainings"] == qualified["trainings"]
    assert expert.post(f"/experts/{expert_id}/qualifications", json=gold).status_code == 403


def test_an_affiliation_carries_its_period_and_one_ending_before_it_began_is_422(secretariat: Secretariat) -> None:
    expert_id, _ = secretariat.expert(name="Paula Period")
    cluster_id = secretariat.cluster()
    base = f"/experts/{expert_id}/affiliations"
    consultancy = {"cluster_id": cluster_id, "since": "2020-01-01T00:00:00Z", "until": "2021-06-30T00:00:00Z"}
    declared = secretariat.expect(secretariat.api.post(base, json=consultancy), 200)
    assert declared["affiliations"] == [cluster_id]
    [period] = declared["affiliation_periods"]
    assert (period["since"][:10], period["until"][:10]) == ("2020-01-01", "2021-06-30")

    backwards = consultancy | {"since": "2022-01-01T00:00:00Z"}
    answer = secretariat.api.post(base, json=backwards)
    assert answer.status_code == 422 and "before it began" in answer.text
    after = secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)
    assert after["affiliation_periods"] == declared["affiliation_periods"]
