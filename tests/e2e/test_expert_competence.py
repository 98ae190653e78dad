"""Expert competence through the API: the proposed expert accepts declaring no conflict of interest with
the cluster, which their record and the case (API and page) then show (accepting while declaring a conflict is 422 and changes nothing);
and the expert proposed first is one who speaks a language of the cluster."""

from __future__ import annotations

from tests.e2e.driver import Secretariat
from tests.e2e.engine import ADMIN_TOKEN
from tests.e2e.pages_client import with_token


def test_an_expert_accepts_declaring_no_conflict_and_their_record_shows_it(secretariat: Secretariat) -> None:
    cluster_id = secretariat.cluster()
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    expert_id, expert = secretariat.proposed_expert(case_id)

    conflicted = expert.post(f"/cases/{case_id}/assignment", json={"accept": True, "no_conflict_declared": False})
    assert conflicted.status_code == 422 and "declines the proposal" in conflicted.text
    assert secretariat.case(case_id)["proposed_expert_id"] == expert_id

    declared = {"accept": True, "no_conflict_declared": True}
    secretariat.expect(expert.post(f"/cases/{case_id}/assignment", json=declared), 200)
    record = secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)
    [declaration] = record["no_conflict_declared"]
    assert (declaration["case_id"], declaration["cluster_id"]) == (case_id, cluster_id)
    case = secretariat.case(case_id)
    assert expert_id in case["expert_ids"]
    assert case["no_conflict_declared"] == {expert_id: declaration["declared_at"]}  # the case shows it too
    page = with_token(secretariat.engine, ADMIN_TOKEN).read(f"/ui/cases/{case_id}").text
    assert "declared no conflict of interest" in page


def test_the_expert_proposed_first_is_one_who_speaks_the_clusters_language(secretariat: Secretariat) -> None:
    cluster_id = secretariat.cluster(languages=["EU"])
    assert secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}"), 200)["languages"] == ["eu"]
    basque_speaker, _ = secretariat.expert(name="Miren Basque", languages=["eu"])
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    proposed, _ = secretariat.proposed_expert(case_id)
    assert proposed == basque_speaker
