"""Silver as ESCA runs it, through the HTTP API: the application names its three areas on ESCA's form, the
expert benchmarks the cluster again on the Bronze indicators and validates the areas and the baseline on site;
every verdict passed awards Silver, one failed requirement leaves Bronze only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.driver import Secretariat
from tests.e2e.engine import HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.e2e.page_session import pages_as, token_of
from tests.e2e.pages_client import with_token

# The gap after the Bronze round shrunk to a second, so that a test can apply for Silver right after it.
SILVER_POLICY = {**HOUR_POLICY, "silver_min_gap": "PT1S", "silver_max_gap": "PT1H"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    with running_engine(tmp_path_factory.mktemp("engine") / "data", SILVER_POLICY) as running:
        yield running


@pytest.fixture(scope="module")
def secretariat(engine: RunningEngine) -> Secretariat:
    secretariat = Secretariat(engine)
    secretariat.expert(name="Aaron Auditor", country="DE")
    secretariat.expert(name="Berit Benchmarker", country="SE")
    return secretariat


def silver_case(secretariat: Secretariat, name: str) -> tuple[str, list[str]]:
    """A cluster with a Bronze label applies for Silver on ESCA's form; the Silver case's id and its areas."""
    cluster_id = secretariat.cluster(name=name)
    secretariat.award(secretariat.apply(cluster_id))
    gold = secretariat.expect(secretariat.api.get("/indicators", params={"level": "gold"}), 200)
    areas = sorted(item["code"] for item in gold[:3])
    form = [
        {"area": code, "actions": f"New service for {code}.", "evidence": "Minutes, attendance lists."}
        for code in areas
    ]
    body = {"cluster_id": cluster_id, "level": "silver", "improvement_areas": form}
    # The Bronze case closes in its workflow a moment after the label: then the cluster has its Bronze round.
    created = eventually(
        lambda: (lambda r: r.json() if r.status_code == 201 else None)(
            secretariat.api.post("/applications", json=body)
        ),
        30,
        "the Bronze round closed",
    )
    return created["case_id"], areas


def validation(secretariat: Secretariat, areas: list[str], unmet: str | None = None) -> dict[str, Any]:
    baseline = secretariat.expect(secretariat.api.get("/baseline"), 200)
    return {
        "areas": [{"area": code, "validated": True} for code in areas],
        "requirements": [
            {
                "code": item["code"],
                "met": item["code"] != unmet,
                "finding": "no budget plan" if item["code"] == unmet else "",
            }
            for item in baseline["requirements"]
        ],
        "recommendations": "Plan the budget two years ahead.",
    }


def assess(secretariat: Secretariat, case_id: str, areas: list[str], unmet: str | None = None) -> dict[str, Any]:
    secretariat.screen(case_id)
    [(_, expert)] = secretariat.staff(case_id)
    gold_scores = expert.post(
        f"/cases/{case_id}/assessment",
        json={
            "indicators": secretariat.full_scores("gold"),
            "report": "Validated.",
            "validation": validation(secretariat, areas),
        },
    )
    assert gold_scores.status_code == 422, gold_scores.text  # the Silver evaluation asks for no Gold scores
    missing = expert.post(
        f"/cases/{case_id}/assessment", json={"indicators": secretariat.full_scores("bronze"), "report": "Validated."}
    )
    assert missing.status_code == 422 and "validation" in missing.text
    body = {
        "indicators": secretariat.full_scores("bronze"),
        "report": "Benchmarked again; areas and baseline validated on site.",
        "validation": validation(secretariat, areas, unmet),
    }
    return secretariat.expect(expert.post(f"/cases/{case_id}/assessment", json=body), 200)


def test_a_silver_case_with_every_verdict_passed_is_awarded_silver(secretariat: Secretariat) -> None:
    case_id, areas = silver_case(secretariat, "Alpine Wood Cluster")
    applied = secretariat.case(case_id)
    assert applied["catalogue_version"] == "bronze-2020" and applied["improvement_areas"] == areas
    assert [item["area"] for item in applied["improvement_descriptions"]] == areas
    silver_indicators = secretariat.expect(secretariat.api.get("/indicators", params={"level": "silver"}), 200)
    assert len(silver_indicators) == 36 and {item["catalogue_version"] for item in silver_indicators} == {"bronze-2020"}
    assert secretariat.full_scores("silver") == secretariat.full_scores("bronze")
    assessed = assess(secretariat, case_id, areas)
    assert assessed["state"] == "deciding" and assessed["recommended_level"] == "silver"
    assert assessed["silver_validation"]["holds"] is True
    assert assessed["silver_validation"]["baseline_version"] == "baseline-2020"
    decided = secretariat.decide(case_id, level="silver")
    assert decided["state"] == "awarded"
    label_id = secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"]
    assert secretariat.label(label_id)["level"] == "silver"


def test_one_failed_baseline_requirement_means_no_silver_only_bronze(secretariat: Secretariat) -> None:
    case_id, areas = silver_case(secretariat, "Danube Logistics Cluster")
    assessed = assess(secretariat, case_id, areas, unmet="BL-04")
    assert assessed["recommended_level"] == "bronze"
    contact = secretariat.contact(assessed["cluster_id"], "Dana Danube")
    pending = [
        e
        for e in secretariat.expect(contact.get(f"/cases/{case_id}/history"), 200)["events"]
        if e["type"] == "SilverValidated"
    ]
    assert [event["data"] for event in pending] == [{}]  # the verdicts reach the cluster with the decision
    assert secretariat.expect(contact.get(f"/cases/{case_id}"), 200)["silver_validation"] is None
    assert assessed["silver_validation"]["requirements"]["BL-04"] == {"met": False, "finding": "no budget plan"}
    decider = secretariat.member("Dora Decider", "decider")
    refused = decider.post(f"/cases/{case_id}/decision", json={"outcome": "award", "rationale": "Validated."})
    assert refused.status_code == 422 and "supports bronze, not silver" in refused.text
    decided = secretariat.decide(case_id, level="bronze")
    assert decided["state"] == "awarded"
    report = secretariat.expect(secretariat.api.get(f"/cases/{case_id}/report"), 200)
    decided_history = secretariat.expect(contact.get(f"/cases/{case_id}/history"), 200)["events"]
    assert secretariat.expect(contact.get(f"/cases/{case_id}"), 200)["silver_validation"]["holds"] is False
    assert [e["data"]["validation"]["holds"] for e in decided_history if e["type"] == "SilverValidated"] == [False]
    failed = [item for item in report["validation"]["requirements"] if not item["passed"]]
    assert [(item["code"], item["finding"]) for item in failed] == [("BL-04", "no budget plan")]
    assert report["validation"]["recommendations"] == "Plan the budget two years ahead."
    assert [item["actions"] for item in report["validation"]["areas"]] == [f"New service for {code}." for code in areas]
    label_id = secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"]
    assert secretariat.label(label_id)["level"] == "bronze"


def test_codes_alone_still_apply_and_a_form_with_an_unknown_field_is_refused(secretariat: Secretariat) -> None:
    cluster_id = secretariat.cluster(name="Codes Only Cluster")
    gold = secretariat.expect(secretariat.api.get("/indicators", params={"level": "gold"}), 200)
    codes = [item["code"] for item in gold[:3]]
    form = [{"area": codes[0], "actions": "a", "evidence": "b", "budget": 3}, *codes[1:]]
    typo = secretariat.api.post(
        "/applications", json={"cluster_id": cluster_id, "level": "silver", "improvement_areas": form}
    )
    assert typo.status_code == 422, typo.text
    # Codes alone pass the body; this cluster has no Bronze round yet, which the domain names.
    plain = secretariat.api.post(
        "/applications", json={"cluster_id": cluster_id, "level": "silver", "improvement_areas": codes}
    )
    assert plain.status_code == 422 and "no Bronze benchmarking" in plain.text


def test_the_expert_validates_a_silver_case_on_the_assessment_page(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    case_id, areas = silver_case(secretariat, "Page Form Cluster")
    secretariat.screen(case_id)
    [(expert_id, _)] = secretariat.staff(case_id)
    page = with_token(engine, engine.experts[expert_id])
    shown = page.read(f"/ui/cases/{case_id}/assessment").text
    assert "Silver validation" in shown and f"New service for {areas[0]}." in shown and "BL-09" in shown
    baseline = secretariat.expect(secretariat.api.get("/baseline"), 200)["requirements"]
    form = {f"score:{item['code']}": str(item["score"]) for item in secretariat.full_scores("bronze")}
    form |= {f"area:{code}": "validated" for code in areas}
    form |= {f"requirement:{item['code']}": "met" for item in baseline}
    form |= {"recommendations": "Keep surveying the members.", "report": "Validated on site."}
    answer = page.post(f"/ui/cases/{case_id}/assessment", form)
    assert page.flash_after(answer)[0] != "error", page.flash_after(answer)
    assessed = secretariat.case(case_id)
    assert assessed["recommended_level"] == "silver" and assessed["silver_validation"]["holds"] is True
    case_page = page.read(f"/ui/cases/{case_id}").text
    assert "every verdict passed" in case_page and f"New service for {areas[0]}." in case_page


def test_an_officer_applies_for_silver_on_esca_form_from_the_clusters_page(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    cluster_id = secretariat.cluster(name="Form Rows Cluster")
    secretariat.award(secretariat.apply(cluster_id))
    officer = pages_as(engine, token_of(secretariat.member("Olga Officer", "officer")))
    assert 'name="actions_1"' in officer.read(f"/ui/clusters/{cluster_id}").text
    codes = [
        item["code"]
        for item in secretariat.expect(secretariat.api.get("/indicators", params={"level": "gold"}), 200)[:3]
    ]
    rows = {f"area_{n}": code for n, code in enumerate(codes, 1)}
    rows |= {"actions_1": "A matchmaking service, monthly.", "evidence_1": "Attendance lists, 2026."}

    def applied() -> str | None:
        answer = officer.post(
            f"/ui/clusters/{cluster_id}/applications", data={"csrf_token": "", "level": "silver", **rows}
        )
        kind, _ = officer.flash_after(answer)
        return answer.headers["location"].split("/")[3].split("?")[0] if kind == "ok" else None

    case = secretariat.case(eventually(applied, 30, "the Bronze round closed"))
    assert case["improvement_areas"] == sorted(codes)
    assert [(d["area"], d["actions"], d["evidence"]) for d in case["improvement_descriptions"]] == [
        (codes[0], "A matchmaking service, monthly.", "Attendance lists, 2026.")
    ]
