"""Erasing an expert (GDPR Art. 17) from an append-only log: their name, which their registration event
carries sealed under a key of their own, can no longer be read by anyone once `clusterlabel accounts
erase` destroys that key. Pages, histories and the API show "erased person" where it stood; the case
they audited and its label stay as they were, no stored event is rewritten, and the log verifies."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine
from tests.e2e.pages_client import Pages, signed_in
from tests.e2e.test_accounts_cli import accounts
from tests.e2e.test_cli import clusterlabel
from tests.e2e.test_erasure import ERASED, award_by, records
from tests.pdf_reading import pdf_text

NAME = "Aada Erasable"  # sorts first: the one expert this engine proposes


def stored_events(engine: RunningEngine) -> list[bytes]:
    """Every stored event, read raw from the event table of the engine's SQLite store."""
    with sqlite3.connect(engine.data_dir / "events.sqlite") as db:
        return [bytes(row[0]) for row in db.execute("SELECT state FROM stored_events ORDER BY rowid")]


def shown(pages: Pages, secretariat: Secretariat, ids: dict[str, str], expert_id: str) -> str:
    """Everything a reader sees of the expert's work: the pages, the histories and the API's answers."""
    paths = [
        f"/ui/cases/{ids['case_id']}",
        f"/ui/labels/{ids['label_id']}",
        f"/ui/labels/{ids['label_id']}/certificate",
        f"/ui/clusters/{ids['cluster_id']}",
        f"/ui/experts/{expert_id}",
        "/ui/experts",
    ]
    api: dict[str, Any] = {**records(secretariat, ids), "expert": secretariat.api.get(f"/experts/{expert_id}").json()}
    certificate = pdf_text(secretariat.api.get(f"/labels/{ids['label_id']}/certificate.pdf").content)
    return "\n".join([*(pages.read(path).text for path in paths), str(api), certificate])


def test_erasing_an_experts_account_leaves_their_name_nowhere_and_their_case_and_label_intact(
    engine: RunningEngine,
) -> None:
    secretariat = Secretariat(engine)
    expert_id, expert = secretariat.expert(name=NAME, country="DE")
    account_id = secretariat.expect(expert.get("/me"), 200)["account_id"]
    ids = award_by(secretariat, "Dora Decider")
    assert secretariat.case(ids["case_id"])["expert_ids"] == [expert_id]
    officer = signed_in(secretariat, "Olga Officer", "officer")
    assert NAME in shown(officer, secretariat, ids, expert_id)
    assert not any(NAME.encode() in state for state in stored_events(engine)), "the log holds the name sealed"
    code, _, err = accounts(engine, "erase", account_id)
    assert code != 0 and f"expert {expert_id} is still certified: revoke the certification first" in err
    revoked = secretariat.api.post(f"/experts/{expert_id}/revocation", json={"reason": "left the expert pool"})
    secretariat.expect(revoked, 200)
    before = records(secretariat, ids)

    code, out, err = accounts(engine, "erase", account_id)

    assert code == 0, err
    assert out.strip().split("\t")[1] == ERASED
    after = shown(officer, secretariat, ids, expert_id)
    assert NAME not in after and ERASED in after
    assert secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)["name"] == ERASED
    assert NAME not in officer.read("/ui/experts?q=Aada").text
    assert records(secretariat, ids) == before  # the case, its label and every history, name aside, as they were
    assert not any(NAME.encode() in state for state in stored_events(engine))
    verify = clusterlabel("verify", "--data-dir", str(engine.data_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "OK" in verify.stdout


def test_an_administrator_erasing_an_expert_over_the_api_leaves_the_name_nowhere_the_api_or_pages_show(
    engine: RunningEngine,
) -> None:
    secretariat = Secretariat(engine)
    expert_id, expert = secretariat.expert(name="Bodil Bygone", country="SE")
    account_id = secretariat.expect(expert.get("/me"), 200)["account_id"]
    admin = secretariat.member("Ines Admin", "admin")
    officer = signed_in(secretariat, "Otto Officer", "officer")
    assert "Bodil Bygone" in officer.read(f"/ui/experts/{expert_id}").text

    refused = admin.post(f"/accounts/{account_id}/erasure")
    assert refused.status_code == 409 and "still certified" in refused.json()["detail"]
    assert secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)["name"] == "Bodil Bygone"
    secretariat.expect(secretariat.api.post(f"/experts/{expert_id}/revocation", json={"reason": "retired"}), 200)
    secretariat.expect(admin.post(f"/accounts/{account_id}/erasure"), 200)

    assert secretariat.expect(secretariat.api.get(f"/experts/{expert_id}"), 200)["name"] == ERASED
    pages = [officer.read(path).text for path in (f"/ui/experts/{expert_id}", "/ui/experts")]
    assert all("Bodil" not in page for page in pages) and ERASED in pages[0]
