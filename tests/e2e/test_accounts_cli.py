"""`clusterlabel accounts`: the real command line on the data directory an engine serves, its tokens used
against that engine's API."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.driver import cluster_body, expert_body
from tests.e2e.engine import HOUR_POLICY, RunningEngine, eventually, running_engine
from tests.e2e.pages_client import PASSWORD, Pages
from tests.e2e.test_cli import clusterlabel

ROLES_OF_BOTH = ("--role", "expert", "--role", "cluster")
OPENED = re.compile(r"^account_id\s+(\S+)\ntoken\s+(\S+)\n$")


def accounts(engine_or_dir: RunningEngine | Path, *args: str) -> tuple[int, str, str]:
    data_dir = engine_or_dir.data_dir if isinstance(engine_or_dir, RunningEngine) else engine_or_dir
    run = clusterlabel("accounts", *args, "--data-dir", str(data_dir))
    return run.returncode, run.stdout, run.stderr


def create(data: RunningEngine | Path, name: str, *roles: str) -> tuple[str, str]:
    """Open an account from the command line: its id and first token."""
    email = f"{name.lower().replace(' ', '.')}-{uuid.uuid4().hex[:6]}@secretariat.example.org"
    code, out, err = accounts(data, "create", "--name", name, "--email", email, *(f"--role={r}" for r in roles))
    assert code == 0, err
    found = OPENED.match(out)
    assert found, out
    return found[1], found[2]


@pytest.fixture(scope="module")
def first_admin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The administrator a fresh install starts with: made before the engine ever ran, without a token."""
    data_dir = tmp_path_factory.mktemp("fresh") / "data"
    account_id, token = create(data_dir, "Ada Admin", "admin")
    return data_dir, account_id, token


@pytest.fixture(scope="module")
def engine(first_admin: tuple[Path, str, str]) -> Iterator[RunningEngine]:
    with running_engine(first_admin[0], HOUR_POLICY) as running:
        yield running


def test_the_first_administrator_is_made_before_the_engine_runs_and_manages_accounts_over_the_api(
    engine: RunningEngine, first_admin: tuple[Path, str, str]
) -> None:
    _, account_id, token = first_admin
    admin = engine.client(token)

    me = admin.get("/me").json()
    assert (me["account_id"], me["name"], me["roles"]) == (account_id, "Ada Admin", ["admin"])
    opened = admin.post("/accounts", json={"name": "Olga Officer", "email": "olga@example.org", "roles": ["officer"]})
    assert opened.status_code == 201, opened.text
    assert admin.post("/clusters", json=cluster_body()).status_code == 403  # an administrator, not an officer


def test_an_account_opened_beside_a_running_engine_works_at_once_and_changes_with_each_command(
    engine: RunningEngine,
) -> None:
    account_id, token = create(engine, "Otto Officer", "officer", "decider")
    otto = engine.client(token)
    assert otto.post("/clusters", json=cluster_body()).status_code == 201

    code, out, err = accounts(engine, "revoke", account_id, "officer")
    assert code == 0, err
    assert out.split("\t")[3] == "decider"
    assert otto.post("/clusters", json=cluster_body()).status_code == 403
    assert accounts(engine, "grant", account_id, "officer")[0] == 0
    assert otto.post("/clusters", json=cluster_body()).status_code == 201

    code, _, err = accounts(engine, "deactivate", account_id, "--reason", "left the secretariat")
    assert code == 0, err
    assert otto.get("/me").status_code == 401
    tokens = engine.client().get(f"/accounts/{account_id}/tokens").json()
    assert tokens and all(token["revoked_at"] for token in tokens)
    header, *rows = accounts(engine, "list")[1].splitlines()
    assert header.split("\t") == ["account_id", "name", "email", "roles", "active"]
    fields = next(row for row in rows if row.startswith(account_id)).split("\t")
    assert (fields[1], fields[3], fields[4]) == ("Otto Officer", "decider,officer", "no")


@pytest.mark.parametrize(
    "args, says",
    [
        (["create", "--name", "X", "--email", "x@example.org", "--role", "wizard"], "invalid choice: 'wizard'"),
        (["create", "--name", "X", "--email", "not-an-address", "--role", "officer"], "email"),
        (["create", "--name", "X", "--email", "x@example.org", "--role", "expert"], "expert_id go together"),
        (["grant", str(uuid.UUID(int=7)), "officer"], f"no account with id {uuid.UUID(int=7)}"),
        (["deactivate", "not-an-id"], "invalid UUID value"),
        (["erase", str(uuid.UUID(int=8))], f"no account with id {uuid.UUID(int=8)}"),
    ],
)
def test_bad_input_is_refused_with_exit_2_and_changes_nothing(
    engine: RunningEngine, args: list[str], says: str
) -> None:
    before = accounts(engine, "list")[1]

    code, out, err = accounts(engine, *args)

    assert (code, out) == (2, "")
    assert says in err
    assert accounts(engine, "list")[1] == before


def test_an_address_already_taken_is_refused_with_exit_2_and_opens_nothing(engine: RunningEngine) -> None:
    account_id, _ = create(engine, "Tess Taken", "appeals")
    email = next(line for line in accounts(engine, "list")[1].splitlines() if line.startswith(account_id)).split("\t")[
        2
    ]
    before = accounts(engine, "list")[1]

    code, out, err = accounts(engine, "create", "--name", "Tess Again", "--email", email.upper(), "--role", "officer")

    assert (code, out) == (2, "")
    assert f"already uses the e-mail address {email}" in err
    assert accounts(engine, "list")[1] == before


def test_a_reset_link_from_the_command_line_sets_the_password_the_person_signs_in_with(engine: RunningEngine) -> None:
    account_id, _ = create(engine, "Rita Reset", "officer")
    code, out, err = accounts(engine, "reset-link", account_id)
    assert code == 0, err
    link = urlsplit(out.strip())
    assert link.path == "/ui/password" and link.query.startswith("link=")

    pages = Pages(engine)
    pages.read(f"{link.path}?{link.query}")
    token = link.query.removeprefix("link=")
    assert pages.post("/ui/password", {"link": token, "password": PASSWORD, "confirm": PASSWORD}).status_code == 303
    email = engine.client().get(f"/accounts/{account_id}").json()["email"]
    assert Pages(engine).sign_in(email).status_code == 303


def test_no_reset_link_for_an_unknown_or_deactivated_account(engine: RunningEngine) -> None:
    unknown = str(uuid.UUID(int=9))
    assert accounts(engine, "reset-link", unknown)[:2] == (2, "")
    account_id, _ = create(engine, "Dana Gone", "officer")
    assert accounts(engine, "deactivate", account_id)[0] == 0
    code, out, err = accounts(engine, "reset-link", account_id)
    assert (code, out) == (2, "") and "deactivated" in err


def test_an_expert_opened_as_a_clusters_contact_is_told_how_to_leave_its_open_cases(engine: RunningEngine) -> None:
    api = engine.client()
    cluster_id = api.post("/clusters", json=cluster_body()).json()["cluster_id"]
    expert_id = api.post("/experts", json=expert_body()).json()["expert_id"]
    case_id = api.post("/applications", json={"cluster_id": cluster_id, "level": "bronze"}).json()["case_id"]
    assert api.post(f"/cases/{case_id}/screening", json={"accepted": True}).status_code == 200
    eventually(lambda: proposed(api, case_id) == expert_id, 30, "the expert proposed for the cluster's case")
    email = f"eve-{uuid.uuid4().hex[:6]}@cluster.example.org"
    links = ("--expert-id", expert_id, "--cluster-id", cluster_id)

    code, out, err = accounts(engine, "create", "--name", "Eve Both", "--email", email, *ROLES_OF_BOTH, *links)

    assert code == 0 and OPENED.match(out), err
    advice = f'POST /experts/{expert_id}/affiliations {{"cluster_id": "{cluster_id}"}}'
    assert "open cases they are on or proposed for keeps them until" in err and advice in err
    assert proposed(api, case_id) == expert_id  # the command line released nobody
    assert api.post(f"/experts/{expert_id}/affiliations", json={"cluster_id": cluster_id}).status_code == 200
    eventually(lambda: proposed(api, case_id) != expert_id, 30, "the expert taken off the case")
    history = api.get(f"/cases/{case_id}/history").json()["events"]
    assert "ExpertReleased" in {event["type"] for event in history}


def proposed(api: httpx.Client, case_id: str) -> str | None:
    found: str | None = api.get(f"/cases/{case_id}").json()["proposed_expert_id"]
    return found
