"""A cluster appeals its label's suspension or withdrawal through the HTTP API on the real engine: the
appeals panel (not the officer who took the decision) upholds or dismisses it, and an upheld appeal puts
the label back in force for the public and for its workflow's timers and steps. The appeal's words are
the cluster's and the secretariat's: the expert who audited the label's case reads that there was one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine, eventually
from tests.e2e.page_session import pages_as, token_of

GROUNDS = {"grounds": "The complaint concerned another cluster of the same name."}
RATIONALE = "The panel found the complaint unfounded."


def verified(engine: RunningEngine, label: dict[str, str]) -> str:
    public = httpx.Client(base_url=engine.url)
    answer = public.get(f"/labels/{label['label_id']}/verify", params={"code": label["verification_code"]})
    return str(answer.json()["status"])


def test_an_upheld_appeal_against_a_suspension_makes_the_label_valid_again(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    cluster_id = secretariat.cluster(name="Sava Timber Cluster", country="SI")
    label = secretariat.label(secretariat.award(secretariat.apply(cluster_id)))
    olga = secretariat.member("Olga Suspending", "officer", "appeals")
    contact = secretariat.contact(cluster_id, "Mira Kovac")
    suspended = secretariat.expect(
        olga.post(f"/labels/{label['label_id']}/suspension", json={"reason": "complaint under review"}), 200
    )
    assert suspended["appeal_due"] is not None and suspended["appeal"] is None

    lodged = secretariat.expect(contact.post(f"/labels/{label['label_code']}/appeal", json=GROUNDS), 200)
    assert lodged["state"] == "suspended" and lodged["appeal"]["upheld"] is None
    assert lodged["appeal"]["against"] == "suspended"
    decision = {"upheld": True, "rationale": "The complaint was misdirected."}
    by_the_suspender = olga.post(f"/labels/{label['label_id']}/appeal/decision", json=decision)
    assert by_the_suspender.status_code == 403 and "took the appealed decision" in by_the_suspender.json()["detail"]
    by_the_cluster = contact.post(f"/labels/{label['label_id']}/appeal/decision", json=decision)
    assert by_the_cluster.status_code == 403, by_the_cluster.text

    panel = secretariat.member("Appeals Panel", "appeals")
    upheld = secretariat.expect(panel.post(f"/labels/{label['label_id']}/appeal/decision", json=decision), 200)
    assert upheld["state"] == "active" and upheld["appeal"]["upheld"] is True
    eventually(lambda: verified(engine, label) == "valid", 10, "verify to say valid again")


def test_an_appeal_against_a_withdrawal_revives_the_label_when_upheld_and_not_when_dismissed(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    panel = secretariat.member("Appeals Panel", "appeals")
    labels = []
    for name in ("Tara River Cluster", "Lika Stone Cluster"):
        cluster_id = secretariat.cluster(name=name, country="HR")
        label = secretariat.label(secretariat.award(secretariat.apply(cluster_id)))
        withdrawn = secretariat.api.post(f"/labels/{label['label_id']}/withdrawal", json={"reason": "misuse"})
        assert secretariat.expect(withdrawn, 200)["state"] == "withdrawn"
        labels.append((label, secretariat.contact(cluster_id, f"Contact of {name}")))
    (kept, _), (lost, lost_contact) = labels
    # Only the label's own cluster (or an officer) appeals: another cluster's contact does not see it.
    assert lost_contact.post(f"/labels/{kept['label_id']}/appeal", json=GROUNDS).status_code == 404

    for label, contact in labels:  # the label's workflow ended at the withdrawal: the appeal starts it again
        lodged = secretariat.expect(contact.post(f"/labels/{label['label_id']}/appeal", json=GROUNDS), 200)
        assert lodged["state"] == "withdrawn" and lodged["appeal"]["against"] == "withdrawn"
    upheld = panel.post(f"/labels/{kept['label_id']}/appeal/decision", json={"upheld": True, "rationale": "No misuse."})
    assert secretariat.expect(upheld, 200)["state"] == "active"
    dismissed = panel.post(
        f"/labels/{lost['label_id']}/appeal/decision", json={"upheld": False, "rationale": "Misuse."}
    )
    assert secretariat.expect(dismissed, 200)["state"] == "withdrawn"

    eventually(lambda: verified(engine, kept) == "valid", 10, "verify to say valid again")
    assert verified(engine, lost) == "withdrawn"
    again = lost_contact.post(f"/labels/{lost['label_id']}/appeal", json=GROUNDS)
    assert again.status_code == 409 and "already lodged" in again.json()["detail"], again.text
    # The revived label's workflow runs its lifecycle again: it takes the secretariat's steps.
    suspended = secretariat.api.post(f"/labels/{kept['label_id']}/suspension", json={"reason": "a new complaint"})
    assert secretariat.expect(suspended, 200)["state"] == "suspended"
    assert secretariat.api.post(f"/labels/{lost['label_id']}/restoration").status_code == 409


def test_a_contact_appeals_a_withdrawal_from_the_label_page_and_the_panel_upholds_it_there(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    cluster_id = secretariat.cluster(name="Neretva Olive Cluster", country="HR")
    label = secretariat.label(secretariat.award(secretariat.apply(cluster_id)))
    page = f"/ui/labels/{label['label_code']}"
    secretariat.expect(secretariat.api.post(f"/labels/{label['label_id']}/withdrawal", json={"reason": "misuse"}), 200)
    portal = pages_as(engine, token_of(secretariat.contact(cluster_id, "Ivo Neretva")))
    assert 'id="lodge-appeal"' in portal.get(page).text and "May be appealed until" in portal.get(page).text

    lodged = portal.post(f"{page}/appeal", data={"csrf_token": "", "grounds": "We never showed the label."})
    assert portal.flash_after(lodged) == ("ok", "appeal lodged")
    assert "awaiting the appeals panel" in portal.get(page).text
    panel = pages_as(engine, token_of(secretariat.member("Appeals Panel", "appeals")))
    assert 'id="decide-appeal"' in panel.get(page).text and 'id="decide-appeal"' not in portal.get(page).text
    fields = {"csrf_token": "", "rationale": "No misuse was shown.", "upheld": "true"}
    assert panel.flash_after(panel.post(f"{page}/appeal/decision", data=fields)) == ("ok", "appeal decided")

    assert secretariat.label(label["label_id"])["state"] == "active"
    assert "upheld: No misuse was shown." in portal.get(page).text


@pytest.fixture(scope="module")
def appealed(secretariat: Secretariat) -> dict[str, Any]:
    """A label withdrawn and restored on appeal; the expert who audited its case, the cluster's contact."""
    cluster_id = secretariat.cluster(name="Krka Wine Cluster", country="HR")
    case_id = secretariat.apply(cluster_id)
    ((_, auditor),) = secretariat.to_decision(case_id)
    secretariat.decide(case_id)
    label = secretariat.label(secretariat.wait_for(case_id, "the label", lambda c: c["label_id"])["label_id"])
    secretariat.expect(secretariat.api.post(f"/labels/{label['label_id']}/withdrawal", json={"reason": "misuse"}), 200)
    contact = secretariat.contact(cluster_id, "Ana Krka")
    secretariat.expect(contact.post(f"/labels/{label['label_id']}/appeal", json=GROUNDS), 200)
    decision = {"upheld": True, "rationale": RATIONALE}
    panel = secretariat.member("Appeals Panel", "appeals")
    secretariat.expect(panel.post(f"/labels/{label['label_id']}/appeal/decision", json=decision), 200)
    return {"cluster_id": cluster_id, "label": label, "auditor": auditor, "contact": contact}


APPEAL_WORDS = (GROUNDS["grounds"], RATIONALE)


@pytest.mark.parametrize("history", ["/labels/{label_id}/history", "/clusters/{cluster_id}/history"])
def test_the_audits_expert_reads_in_a_history_that_a_label_was_appealed_but_not_the_grounds_nor_the_rationale(
    secretariat: Secretariat, appealed: dict[str, Any], history: str
) -> None:
    """The label outlives the case its expert audited: its appeal's events stand in their history in place,
    without their data, as the label (GET /labels/{ref}) stands without its appeal."""
    path = history.format(label_id=appealed["label"]["label_id"], cluster_id=appealed["cluster_id"])
    events = secretariat.expect(appealed["auditor"].get(path), 200)["events"]
    appeal = [(event["type"], event["data"]) for event in events if event["type"].startswith("LabelAppeal")]
    assert appeal == [("LabelAppealLodged", {}), ("LabelAppealUpheld", {})]
    assert not any(said in str(events) for said in APPEAL_WORDS)
    for reader in (secretariat.api, appealed["contact"]):
        assert all(said in str(secretariat.expect(reader.get(path), 200)) for said in APPEAL_WORDS)


def test_the_audits_expert_reads_on_the_label_page_that_it_was_appealed_but_not_the_grounds_nor_the_rationale(
    engine: RunningEngine, secretariat: Secretariat, appealed: dict[str, Any]
) -> None:
    page = f"/ui/labels/{appealed['label']['label_code']}"
    seen = pages_as(engine, token_of(appealed["auditor"])).read(page).text
    assert "Label appeal upheld" in seen and not any(said in seen for said in APPEAL_WORDS)
    for reader in (secretariat.api, appealed["contact"]):
        timeline = pages_as(engine, token_of(reader)).read(page).text.split('id="timeline"')[1]
        assert all(said in timeline for said in APPEAL_WORDS)
