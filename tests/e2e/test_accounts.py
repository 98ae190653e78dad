"""Accounts over the API, as the issue pins them: one per person, each signing in as themselves; a cluster
contact acts for their own cluster alone; a decision names the decider's account; a deactivated account's
tokens stop at once; personal API tokens are named, listed without their secret, rotated and revoked."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.driver import Secretariat, cluster_body
from tests.e2e.engine import RunningEngine


def email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


def open_account(secretariat: Secretariat, **body: object) -> dict[str, str]:
    return secretariat.expect(secretariat.api.post("/accounts", json=body), 201)


@pytest.fixture(scope="module")
def contact(secretariat: Secretariat, engine: RunningEngine) -> tuple[str, httpx.Client]:
    """A cluster, and a client signed in as its contact person."""
    cluster_id = secretariat.cluster()
    body = {"name": "Clara Contact", "email": email("clara")}
    answer = secretariat.expect(secretariat.api.post(f"/clusters/{cluster_id}/contacts", json=body), 201)
    return cluster_id, engine.client(answer["token"])


def test_an_account_is_opened_with_its_roles_and_reads_itself_at_me(
    secretariat: Secretariat, engine: RunningEngine
) -> None:
    address = email("olga")
    opened = open_account(secretariat, name="Olga Officer", email=address.upper(), roles=["officer", "decider"])
    me = secretariat.expect(engine.client(opened["token"]).get("/me"), 200)
    assert me == {
        "account_id": opened["account_id"],
        "name": "Olga Officer",
        "email": address,
        "roles": ["decider", "officer"],  # and no expert_id or cluster_id: a staff account speaks for neither
        "active": True,
        "erased": False,
        "language": "en",
    }


def test_an_unknown_role_is_422_and_a_taken_email_is_409_and_neither_opens_an_account(
    secretariat: Secretariat,
) -> None:
    before = secretariat.expect(secretariat.api.get("/accounts", params={"limit": 500}), 200)
    unknown = secretariat.api.post("/accounts", json={"name": "X", "email": email("x"), "roles": ["king"]})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"][:2] == ["body", "roles"]
    taken = open_account(secretariat, name="Taken", email=email("taken"), roles=["officer"])
    me = secretariat.expect(secretariat.engine.client(taken["token"]).get("/me"), 200)
    again = secretariat.api.post("/accounts", json={"name": "Other", "email": me["email"], "roles": ["decider"]})
    assert again.status_code == 409 and me["email"] in again.json()["detail"]
    after = secretariat.expect(secretariat.api.get("/accounts", params={"limit": 500}), 200)
    assert len(after) == len(before) + 1


def test_an_opening_sent_again_under_its_key_issues_no_token_and_revokes_none(
    secretariat: Secretariat, engine: RunningEngine
) -> None:
    """The tokens are the owner's alone. The administrator sends the opening again under its key once its
    first answer carried the first token: 409, no secret, nothing issued or revoked, whether the owner has
    yet to use the token handed over or has since rotated it (before, the retry revoked the owner's token
    and answered a fresh secret of the owner's account)."""
    body = {"name": "Rita Retry", "email": email("rita"), "roles": ["officer"]}
    key = {"Idempotency-Key": f"open-rita-{uuid.uuid4().hex[:8]}"}
    first = secretariat.expect(secretariat.api.post("/accounts", json=body, headers=key), 201)
    tokens = f"/accounts/{first['account_id']}/tokens"
    issued = secretariat.expect(secretariat.api.get(tokens), 200)

    handed_over = secretariat.api.post("/accounts", json=body, headers=key)

    assert handed_over.status_code == 409 and "owner's alone" in handed_over.json()["detail"], handed_over.text
    assert "token" not in handed_over.json()
    assert secretariat.expect(secretariat.api.get(tokens), 200) == issued  # none issued, none revoked
    owner = engine.client(first["token"])
    rotation = f"{tokens}/{issued[0]['token_id']}/rotation"
    rotated = engine.client(secretariat.expect(owner.post(rotation), 201)["token"])

    assert secretariat.api.post("/accounts", json=body, headers=key).status_code == 409
    assert secretariat.expect(rotated.get("/me"), 200)["name"] == "Rita Retry"


def test_only_an_administrator_opens_accounts(secretariat: Secretariat) -> None:
    officer = secretariat.member("Otto Officer", "officer")
    refused = officer.post("/accounts", json={"name": "Eve", "email": email("eve"), "roles": ["admin"]})
    assert refused.status_code == 403


def test_a_deactivated_accounts_tokens_answer_401_from_then_on(secretariat: Secretariat, engine: RunningEngine) -> None:
    opened = open_account(secretariat, name="Dora Decider", email=email("dora"), roles=["decider"])
    dora = engine.client(opened["token"])
    assert dora.get("/me").status_code == 200
    deactivated = secretariat.api.post(f"/accounts/{opened['account_id']}/deactivation", json={"reason": "left"})
    assert secretariat.expect(deactivated, 200)["active"] is False
    assert dora.get("/me").status_code == 401
    assert dora.get("/cases").status_code == 401


def test_a_contact_applies_for_their_own_cluster_and_another_cluster_answers_as_unknown(
    secretariat: Secretariat, contact: tuple[str, httpx.Client]
) -> None:
    cluster_id, clara = contact
    other = secretariat.cluster()
    theirs = clara.post("/applications", json={"cluster_id": other, "level": "bronze"})
    assert theirs.status_code == 404 and theirs.json() == {"detail": f"no cluster with id {other}"}
    case_id = secretariat.expect(clara.post("/applications", json={"cluster_id": cluster_id, "level": "bronze"}), 201)[
        "case_id"
    ]
    other_case = secretariat.apply(other)

    assert clara.get(f"/cases/{case_id}").status_code == 200
    hidden = clara.get(f"/cases/{other_case}")
    assert hidden.status_code == 404 and hidden.json() == {"detail": f"no case with id {other_case}"}
    assert [case["case_id"] for case in secretariat.expect(clara.get("/cases"), 200)] == [case_id]
    submitted = next(e for e in secretariat.history(case_id) if e["type"] == "Submitted")
    me = secretariat.expect(clara.get("/me"), 200)
    assert submitted["actor"] == f"account:{me['account_id']}"


def test_a_contact_takes_no_officer_step_and_decides_nothing(
    secretariat: Secretariat, contact: tuple[str, httpx.Client]
) -> None:
    _, clara = contact
    case_id = secretariat.apply(secretariat.cluster())  # not theirs: refused by role before any lookup
    assert clara.post(f"/cases/{case_id}/screening", json={"accepted": True}).status_code == 403
    decision = {"outcome": "award", "rationale": "we are great"}
    assert clara.post(f"/cases/{case_id}/decision", json=decision).status_code == 403
    assert clara.post("/clusters", json=cluster_body()).status_code == 403


def test_the_decision_event_names_the_deciders_account(secretariat: Secretariat) -> None:
    case_id = secretariat.apply(secretariat.cluster())
    secretariat.to_decision(case_id)
    secretariat.decide(case_id, decided_by="Greta Decider")
    account_id = secretariat.engine.accounts["Greta Decider"][0]
    decided = next(e for e in secretariat.history(case_id) if e["type"] == "DecisionRecorded")
    assert decided["actor"] == f"account:{account_id}"
    assert decided["data"]["decided_by"] == f"account:{account_id}"


def test_a_personal_token_is_listed_without_its_secret_rotated_and_revoked(
    secretariat: Secretariat, engine: RunningEngine
) -> None:
    opened = open_account(secretariat, name="Theo Tokens", email=email("theo"), roles=["officer"])
    theo, tokens = engine.client(opened["token"]), f"/accounts/{opened['account_id']}/tokens"
    script = secretariat.expect(theo.post(tokens, json={"name": "nightly export", "valid_days": 30}), 201)
    listed = secretariat.expect(theo.get(tokens), 200)
    assert sorted(t["name"] for t in listed) == ["issued with the account", "nightly export"]
    assert script["token"] not in str(listed)

    rotated = secretariat.expect(theo.post(f"{tokens}/{script['token_id']}/rotation"), 201)
    assert engine.client(script["token"]).get("/me").status_code == 401
    assert engine.client(rotated["token"]).get("/me").status_code == 200
    assert theo.delete(f"{tokens}/{rotated['token_id']}").status_code == 204
    assert engine.client(rotated["token"]).get("/me").status_code == 401


def test_issuing_and_rotating_retried_under_their_key_leave_one_live_token_the_caller_holds(
    secretariat: Secretariat, engine: RunningEngine
) -> None:
    """A script whose answer was lost sends the request again under its Idempotency-Key: it gets the token
    the first request issued, with a new secret (the first, never seen, works no more), and no other."""
    opened = open_account(secretariat, name="Rita Retry", email=email("rita"), roles=["officer"])
    rita, tokens = engine.client(opened["token"]), f"/accounts/{opened['account_id']}/tokens"
    body, key = {"name": "nightly export", "valid_days": 30}, {"Idempotency-Key": "issue-nightly"}
    lost = secretariat.expect(rita.post(tokens, json=body, headers=key), 201)
    issued = secretariat.expect(rita.post(tokens, json=body, headers=key), 201)
    assert issued["token_id"] == lost["token_id"]
    assert engine.client(lost["token"]).get("/me").status_code == 401
    assert engine.client(issued["token"]).get("/me").status_code == 200

    rotation, key = f"{tokens}/{issued['token_id']}/rotation", {"Idempotency-Key": "rotate-nightly"}
    lost = secretariat.expect(rita.post(rotation, headers=key), 201)
    rotated = secretariat.expect(rita.post(rotation, headers=key), 201)  # was 404: the old one was revoked
    assert rotated["token_id"] == lost["token_id"]
    assert [engine.client(t).get("/me").status_code for t in (issued["token"], lost["token"], rotated["token"])] == [
        401,
        401,
        200,
    ]
    live = [t["name"] for t in secretariat.expect(rita.get(tokens), 200) if t["revoked_at"] is None]
    assert sorted(live) == ["issued with the account", "nightly export"]


def test_another_persons_tokens_answer_as_an_unknown_account(secretariat: Secretariat, engine: RunningEngine) -> None:
    mine = open_account(secretariat, name="Mia Mine", email=email("mia"), roles=["officer"])
    other = open_account(secretariat, name="Ole Other", email=email("ole"), roles=["officer"])
    mia = engine.client(mine["token"])
    hidden = mia.get(f"/accounts/{other['account_id']}/tokens")
    assert hidden.status_code == 404 and hidden.json() == {"detail": f"no account with id {other['account_id']}"}


def test_an_accounts_history_says_who_granted_which_role_and_when(secretariat: Secretariat) -> None:
    opened = open_account(secretariat, name="Hanna History", email=email("hanna"), roles=["officer"])
    admin = secretariat.member("Ada Admin", "admin")
    account = f"/accounts/{opened['account_id']}"
    secretariat.expect(admin.post(f"{account}/roles", json={"role": "decider"}), 200)
    secretariat.expect(admin.delete(f"{account}/roles/officer"), 200)
    ada = secretariat.engine.accounts["Ada Admin"][0]

    events = secretariat.expect(admin.get(f"{account}/history"), 200)["events"]
    assert [(e["type"], e["actor"], e["data"].get("role")) for e in events] == [
        ("Opened", "secretariat", None),
        ("RoleGranted", f"account:{ada}", "decider"),
        ("RoleRevoked", f"account:{ada}", "officer"),
    ]
    assert all(e["at"] for e in events)
