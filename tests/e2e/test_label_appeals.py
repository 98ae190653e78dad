"""A cluster appeals its label's suspension or withdrawal through the HTTP API on the real engine: the
appeals panel (not the officer who took the decision) upholds or dismisses it, and an upheld appeal puts
the label back in force for the public and for its workflow's timers and steps."""

from __future__ import annotations

import httpx

from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine, eventually
from tests.e2e.page_session import pages_as, token_of

GROUNDS = {"grounds": "The complaint concerned another cluster of the same name."}


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
