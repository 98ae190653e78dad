"""Revoking an expert's certification: the open cases they were working on go back to assigning and
propose someone else, the expert's own steps are refused saying why, and submitted work stands. Recording an
affiliation that excludes an expert from a cluster's cases now does the same on that cluster's open cases."""

from __future__ import annotations

import httpx

from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine
from tests.e2e.page_session import pages_as, token_of
from tests.e2e.pages_client import Pages


def test_a_revoked_expert_leaves_their_auditing_case_which_proposes_another_expert(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.screen(case_id)
    ((expert_id, expert),) = secretariat.staff(case_id)
    assert secretariat.case(case_id)["state"] == "auditing"

    answer = secretariat.api.post(f"/experts/{expert_id}/revocation", json={"reason": "missed the recertification"})
    revoked = secretariat.expect(answer, 200)
    assert revoked["released_from"] == [case_id] and revoked["revoked_at"]

    case = secretariat.wait_for(case_id, "another expert", lambda c: c["proposed_expert_id"] not in (None, expert_id))
    assert case["state"] == "assigning" and expert_id not in case["expert_ids"]
    released = next(e for e in secretariat.history(case_id) if e["type"] == "ExpertReleased")
    assert "missed the recertification" in released["data"]["reason"]

    refused = expert.post(f"/cases/{case_id}/assessment", json={"indicators": [], "report": "late"})
    assert refused.status_code == 403 and "certification was revoked" in refused.json()["detail"]
    # The page's form is let through by the same check as the API (it checked only the expert role).
    form = {f"score:{item['code']}": str(item["score"]) for item in secretariat.full_scores("bronze")}
    pages = pages_as(engine, token_of(expert))
    pages.read("/ui/assignments")
    paged = pages.post(f"/ui/cases/{case_id}/assessment", {**form, "report": "late"})
    assert "certification was revoked" in pages.shown_again(paged, 403)


def test_a_case_whose_assessment_is_in_keeps_the_revoked_experts_work(secretariat: Secretariat) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    ((expert_id, _),) = secretariat.to_decision(case_id)

    revoked = secretariat.expect(secretariat.api.post(f"/experts/{expert_id}/revocation", json={"reason": "x"}), 200)
    assert case_id not in revoked["released_from"]  # (they may be proposed elsewhere, and released there)
    case = secretariat.case(case_id)
    assert case["state"] == "deciding" and case["expert_ids"] == [expert_id]


def test_an_affiliation_recorded_while_the_expert_audits_the_clusters_case_releases_them_from_it(
    secretariat: Secretariat,
) -> None:
    cluster_id, case_id, (expert_id, expert) = _audited_case(secretariat, "Ada Auditor", "Ben Benchmark")

    declared = secretariat.api.post(f"/experts/{expert_id}/affiliations", json={"cluster_id": cluster_id})
    assert cluster_id in secretariat.expect(declared, 200)["affiliations"]

    case = secretariat.wait_for(case_id, "another expert", lambda c: c["proposed_expert_id"] not in (None, expert_id))
    assert case["state"] == "assigning" and expert_id not in case["expert_ids"]
    released = next(e for e in secretariat.history(case_id) if e["type"] == "ExpertReleased")
    assert released["data"]["reason"] == "a conflict of interest: the expert is affiliated with the cluster"
    body = {"indicators": secretariat.full_scores("bronze"), "report": "late"}
    refused = expert.post(f"/cases/{case_id}/assessment", json=body)
    assert refused.status_code == 409 and "the case is assigning" in refused.json()["detail"]


def test_an_affiliation_releases_the_expert_from_that_clusters_case_only(secretariat: Secretariat) -> None:
    expert_id, _ = secretariat.expert(name="Dana Double")
    clusters = [secretariat.cluster(), secretariat.cluster()]
    for someone in set(secretariat.engine.experts) - {expert_id}:  # so Dana is proposed for both clusters' cases
        for cluster_id in clusters:
            body = {"cluster_id": cluster_id}
            secretariat.expect(secretariat.api.post(f"/experts/{someone}/affiliations", json=body), 200)
    cases = [secretariat.apply(cluster_id) for cluster_id in clusters]
    for case_id in cases:
        secretariat.screen(case_id)
        assert [member for member, _ in secretariat.staff(case_id)] == [expert_id]

    declared = secretariat.api.post(f"/experts/{expert_id}/affiliations", json={"cluster_id": clusters[0]})
    secretariat.expect(declared, 200)

    released = secretariat.case(cases[0])
    assert released["state"] == "assigning" and released["expert_ids"] == []
    kept = secretariat.case(cases[1])
    assert kept["state"] == "auditing" and kept["expert_ids"] == [expert_id]
    assert not [e for e in secretariat.history(cases[1]) if e["type"] == "ExpertReleased"]


def test_an_expert_who_becomes_the_clusters_contact_leaves_its_case(secretariat: Secretariat) -> None:
    cluster_id, case_id, (expert_id, _) = _audited_case(secretariat, "Eve Evaluator", "Finn Fieldwork")

    account = {
        "name": "Eve Evaluator",
        "email": f"eve.{expert_id[:8]}@cluster.example.org",
        "roles": ["expert", "cluster"],
        "expert_id": expert_id,
        "cluster_id": cluster_id,
    }
    secretariat.expect(secretariat.api.post("/accounts", json=account), 201)

    case = secretariat.wait_for(case_id, "another expert", lambda c: c["proposed_expert_id"] not in (None, expert_id))
    assert case["state"] == "assigning" and expert_id not in case["expert_ids"]
    released = next(e for e in secretariat.history(case_id) if e["type"] == "ExpertReleased")
    assert released["data"]["reason"] == "a conflict of interest: the expert speaks for the cluster as its contact"


def test_an_affiliation_that_ended_before_the_cooling_off_period_leaves_the_expert_on_the_case(
    secretariat: Secretariat,
) -> None:
    cluster_id, case_id, (expert_id, _) = _audited_case(secretariat, "Cora Consultant")

    long_ago = {"cluster_id": cluster_id, "since": "2001-01-01T00:00:00Z", "until": "2006-01-01T00:00:00Z"}
    secretariat.expect(secretariat.api.post(f"/experts/{expert_id}/affiliations", json=long_ago), 200)

    case = secretariat.case(case_id)
    assert case["state"] == "auditing" and case["expert_ids"] == [expert_id]
    assert not [e for e in secretariat.history(case_id) if e["type"] == "ExpertReleased"]


def test_revoking_an_unknown_expert_is_404_and_only_officers_revoke(secretariat: Secretariat) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert secretariat.api.post(f"/experts/{unknown}/revocation", json={"reason": "x"}).status_code == 404
    decider = secretariat.member("Board Member", "decider")
    expert_id, _ = secretariat.expert()
    assert decider.post(f"/experts/{expert_id}/revocation", json={"reason": "x"}).status_code == 403


def test_an_expert_proposed_after_a_release_reads_none_of_the_assessment_before_the_decision(
    secretariat: Secretariat,
) -> None:
    """A Gold expert submits the team's first version and has their certification revoked: the expert
    proposed in their place sees the case, but neither its scores nor the level recommended."""
    # A Gold team has a national expert (the cluster's country, LT) and a foreign one; a national again after.
    for name, country in [("Lina Lithuanian", "LT"), ("Linas Lithuanian", "LT"), ("Greta Gold", "AT")]:
        secretariat.expert(name=name, country=country)
    case_id = secretariat.apply(secretariat.cluster(country="LT"), "gold")
    secretariat.screen(case_id)
    (scorer_id, scorer), _ = secretariat.staff(case_id, 2)
    assert secretariat.assess(case_id, scorer, "gold")["recommended_level"] == "gold"
    secretariat.expect(secretariat.api.post(f"/experts/{scorer_id}/revocation", json={"reason": "lapsed"}), 200)
    case = secretariat.wait_for(case_id, "another expert", lambda c: c["proposed_expert_id"] not in (None, scorer_id))
    proposed = secretariat.as_expert(case["proposed_expert_id"])

    seen = secretariat.expect(proposed.get(f"/cases/{case_id}"), 200)
    assert seen["state"] == "assigning" and seen["recommended_level"] is None
    assert proposed.get(f"/cases/{case_id}/benchmark").status_code == 409
    history = secretariat.expect(proposed.get(f"/cases/{case_id}/history"), 200)["events"]
    assert [event["data"] for event in history if event["type"] == "AssessmentSubmitted"] == [{}]
    # The released expert's version went with them: the secretariat's history keeps its scores, the case none.
    assert secretariat.case(case_id)["recommended_level"] is None
    assert secretariat.api.get(f"/cases/{case_id}/benchmark").status_code == 404  # no scores of that version
    submitted = [event["data"] for event in secretariat.history(case_id) if event["type"] == "AssessmentSubmitted"]
    assert submitted and submitted[0]["scores"]

    # The new team assesses and signs, and once decided the released expert reads the report the case page
    # links for them, as the cluster does (before, the link answered 404).
    ((_, newcomer),) = secretariat.staff(case_id)
    (other,) = [
        secretariat.as_expert(e) for e in secretariat.case(case_id)["expert_ids"] if e != case["proposed_expert_id"]
    ]
    secretariat.assess(case_id, newcomer, "gold")
    secretariat.sign(case_id, other)
    assert scorer.get(f"/cases/{case_id}/report").status_code == 409  # not decided yet, as for the cluster
    secretariat.decide(case_id, level="gold")
    assert secretariat.expect(scorer.get(f"/cases/{case_id}/report"), 200)["case_id"] == case_id


def test_an_expert_released_from_a_case_is_linked_to_its_report_exactly_when_it_opens_for_them(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    """A released expert was on the case (README: they read it as its cluster does): its page links the
    report once the case is decided, and the link opens the report and its PDF (0293f34). An expert never on
    the case sees neither the page nor the report, and is told no more than for an unknown case."""
    for name in ("Rita Replacement", "Sven Standby"):
        secretariat.expert(name=name, country="SE")  # others of this module's experts are revoked
    case_id = secretariat.apply(secretariat.cluster(name="Riga Wood Cluster"))
    secretariat.screen(case_id)
    ((released_id, released),) = secretariat.staff(case_id)
    secretariat.expect(secretariat.api.post(f"/experts/{released_id}/revocation", json={"reason": "lapsed"}), 200)
    ((_, newcomer),) = secretariat.staff(case_id)
    secretariat.assess(case_id, newcomer)
    pages = pages_as(engine, token_of(released))
    _, outsider = secretariat.expert(name="Otto Outsider", country="AT")
    outsider_pages = pages_as(engine, token_of(outsider))

    # Before the decision: the case page, without the link; the report is the cluster's once it is decided.
    assert report_link_and_report(pages, case_id) == (False, 409)
    secretariat.decide(case_id)
    secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])

    assert report_link_and_report(pages, case_id) == (True, 200)
    pdf = pages.get(f"/ui/cases/{case_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert outsider_pages.get(f"/ui/cases/{case_id}").status_code == 404
    assert outsider_pages.get(f"/ui/cases/{case_id}/report").status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert outsider.get(f"/cases/{case_id}/report").text == outsider.get(f"/cases/{unknown}/report").text.replace(
        unknown, case_id
    )


def report_link_and_report(pages: Pages, case_id: str) -> tuple[bool, int]:
    """Whether the case page links the benchmarking report, and what following the link answers."""
    shown = 'id="report-link"' in pages.read(f"/ui/cases/{case_id}").text
    return shown, pages.get(f"/ui/cases/{case_id}/report").status_code


def _audited_case(secretariat: Secretariat, *experts: str) -> tuple[str, str, tuple[str, httpx.Client]]:
    """A new cluster's case being audited, once the named experts are registered (one to audit, another to
    take their place): the cluster, the case, and its expert (id and client)."""
    for name in experts:
        secretariat.expert(name=name)
    cluster_id = secretariat.cluster()
    case_id = secretariat.apply(cluster_id)
    secretariat.screen(case_id)
    ((expert_id, expert),) = secretariat.staff(case_id)
    return cluster_id, case_id, (expert_id, expert)
