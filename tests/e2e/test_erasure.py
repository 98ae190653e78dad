"""Erasing a person (GDPR Art. 17) from an append-only log: their name and e-mail address go from beside
it, the account is deactivated and its tokens end, and the log says only that an erasure happened.
Every case and label the person decided stays as it was, and the log still verifies."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.credentials import open_credentials
from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine, eventually
from tests.e2e.pages_client import Pages, password_link, person
from tests.e2e.test_accounts_cli import accounts
from tests.e2e.test_cli import clusterlabel

ERASED = "erased person"


def award_by(secretariat: Secretariat, decider: str) -> dict[str, str]:
    """A new case awarded by the named decider: its ids, and the decider's account id."""
    cluster_id = secretariat.cluster()
    secretariat.contact_email(cluster_id, "Erin Contact")  # the label's message reaches someone, and is sent
    case_id = secretariat.apply(cluster_id)
    secretariat.to_decision(case_id)
    secretariat.decide(case_id, decided_by=decider)
    label_id = secretariat.wait_for(case_id, "the label", lambda case: case["label_id"])["label_id"]
    eventually(lambda: secretariat.expect(secretariat.api.get(f"/clusters/{cluster_id}"), 200)["open_cases"] == [])
    # The case's history shows its messages going out: wait until they have, so that it holds still.
    queued = {"case_id": case_id, "status": "queued"}
    eventually(lambda: secretariat.expect(secretariat.api.get("/notifications", params=queued), 200) == [])
    # Its benchmarking report is frozen right after the decision, in the background: wait for that too.
    history = f"/cases/{case_id}/history"
    eventually(
        lambda: any(
            event["type"] == "ReportFrozen" for event in secretariat.expect(secretariat.api.get(history), 200)["events"]
        )
    )
    account_id = secretariat.engine.accounts[decider][0]
    return {"cluster_id": cluster_id, "case_id": case_id, "label_id": label_id, "account_id": account_id}


def records(secretariat: Secretariat, ids: dict[str, str]) -> dict[str, Any]:
    """Everything the log and the views say of the case, its label and its cluster."""
    paths = [
        f"/cases/{ids['case_id']}",
        f"/cases/{ids['case_id']}/history",
        f"/labels/{ids['label_id']}",
        f"/labels/{ids['label_id']}/history",
        f"/clusters/{ids['cluster_id']}/history",
    ]
    return {path: secretariat.expect(secretariat.api.get(path), 200) for path in paths}


def test_erasing_from_the_command_line_keeps_every_case_label_and_event_and_the_log_verifies(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    ids = award_by(secretariat, "Dora Decider")
    before = records(secretariat, ids)
    decider = secretariat.member("Dora Decider")

    code, out, err = accounts(engine, "erase", ids["account_id"])

    assert code == 0, err
    assert out.strip().split("\t") == [ids["account_id"], ERASED, "-", "decider", "no"]
    assert records(secretariat, ids) == before
    decided = next(e for e in before[f"/cases/{ids['case_id']}/history"]["events"] if e["type"] == "DecisionRecorded")
    assert decided["actor"] == f"account:{ids['account_id']}"  # the log names the account, never the person
    assert decider.get("/me").status_code == 401
    listed = accounts(engine, "list")[1]
    assert "Dora Decider" not in listed and "dora.decider@" not in listed
    verify = clusterlabel("verify", "--data-dir", str(engine.data_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "OK" in verify.stdout


def test_an_administrator_erases_over_the_api_and_every_answer_shows_an_erased_person(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    ids = award_by(secretariat, "Egon Erasable")
    before = records(secretariat, ids)
    admin = secretariat.member("Ines Admin", "admin")
    path = f"/accounts/{ids['account_id']}/erasure"
    language = f"/accounts/{ids['account_id']}/language"
    assert secretariat.expect(admin.post(language, json={"language": "de"}), 200)["language"] == "de"

    erased = secretariat.expect(admin.post(path, headers={"Idempotency-Key": "erase-egon"}), 200)
    again = secretariat.expect(admin.post(path, headers={"Idempotency-Key": "erase-egon"}), 200)

    assert erased == again
    shown = secretariat.expect(admin.get(f"/accounts/{ids['account_id']}"), 200)
    assert (shown["name"], shown["email"], shown["active"], shown["erased"]) == (ERASED, None, False, True)
    assert shown["language"] == "en", "the language chosen is forgotten with the person"
    assert admin.post(language, json={"language": "de"}).status_code == 409  # nobody is left to write to
    everyone = secretariat.expect(admin.get("/accounts", params={"limit": 500}), 200)
    assert ERASED in [account["name"] for account in everyone]
    assert "Egon Erasable" not in str(everyone) and "egon.erasable@" not in str(everyone)
    # Its tokens, named by their owner, are gone with them.
    assert secretariat.expect(secretariat.api.get(f"/accounts/{ids['account_id']}/tokens"), 200) == []
    assert records(secretariat, ids) == before
    history = clusterlabel("history", ids["account_id"], "--data-dir", str(engine.data_dir))
    assert re.findall(r"\s(Opened|Deactivated|Erased)\s", history.stdout) == ["Opened", "Deactivated", "Erased"]
    assert "Egon" not in history.stdout  # the log never held the name


def test_an_erasure_deletes_the_persons_password_sessions_links_and_second_factor(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    account_id, email = person(secretariat, "Olga Onceonline", "officer")
    pages = Pages(engine)
    assert pages.sign_in(email).status_code == 303
    spare_link = password_link(engine, account_id)
    stores = open_credentials(Settings(data_dir=engine.data_dir))
    try:
        stores.second_factors.pending_secret(UUID(account_id))  # an enrolment begun
        admin = secretariat.member("Ines Admin", "admin")
        secretariat.expect(admin.post(f"/accounts/{account_id}/erasure"), 200)

        assert not stores.passwords.has_password(UUID(account_id))
        assert stores.passwords.forget_account(UUID(account_id)) == 0  # no row of theirs is left
        assert stores.sessions.forget_account(UUID(account_id)) == 0
        assert stores.second_factors.forget_account(UUID(account_id)) == 0
        assert stores.links.account_for(spare_link.split("link=")[1]) is None
    finally:
        stores.close()
    assert pages.get("/ui/dashboard").status_code == 401  # the session ended with them
