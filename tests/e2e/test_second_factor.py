"""Where the policy asks for it (CLUSTERLABEL_REQUIRE_TOTP_FOR_STAFF), staff give a one-time code after
their password: enrolled at the first sign-in, asked every time after, each code good once."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.second_factors import STEP_SECONDS, code_at
from clusterlabel.interfaces.web.sessions import COOKIE, open_sessions
from clusterlabel.interfaces.web.sessions import MACHINE_ADMIN as MACHINE_ADMIN_SUBJECT
from clusterlabel.interfaces.web.signin import REFUSED, SECOND_FACTOR_PATH
from tests.e2e.driver import Secretariat
from tests.e2e.engine import ADMIN_TOKEN, HOUR_POLICY, RunningEngine, running_engine
from tests.e2e.page_session import token_of
from tests.e2e.pages_client import Pages, person, set_password

SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEngine]:
    env = {"CLUSTERLABEL_REQUIRE_TOTP_FOR_STAFF": "true"}
    with running_engine(tmp_path_factory.mktemp("totp") / "data", HOUR_POLICY, env=env) as running:
        yield running


def now_step() -> int:
    return int(time.time() // STEP_SECONDS)


def enrolled(pages: Pages) -> str:
    """Read the enrolment page's secret, as a person types it into their app."""
    page = pages.read("/ui/login/code")
    found = SECRET.search(page.text)
    assert found and "otpauth://totp/clusterlabel" in page.text and f"secret={found.group(1)}" in page.text
    return found.group(1)


def test_a_staff_member_enrols_at_the_first_sign_in_and_gives_a_fresh_code_each_time_after(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    _, email = person(secretariat, "Tara Twofactor", "decider")
    pages = Pages(engine)
    answer = pages.sign_in(email)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/login/code"
    assert pages.get("/ui/dashboard").status_code == 401  # the password alone opens nothing
    secret = enrolled(pages)
    wrong = pages.post("/ui/login/code", {"code": code_at(secret, now_step() + 10)})
    assert wrong.status_code == 401 and "not right" in wrong.text
    step = now_step()
    done = pages.post("/ui/login/code", {"code": code_at(secret, step)})
    assert done.status_code == 303 and done.headers["location"] == "/ui/dashboard"
    assert "Secretariat dashboard" in pages.read("/ui/dashboard").text

    pages.post("/ui/logout")
    assert pages.sign_in(email).headers["location"] == "/ui/login/code"
    again = pages.read("/ui/login/code")
    assert 'id="totp-secret"' not in again.text  # enrolled: the secret is never shown again
    assert pages.post("/ui/login/code", {"code": code_at(secret, step)}).status_code == 401  # spent
    assert pages.post("/ui/login/code", {"code": code_at(secret, step + 1)}).status_code == 303
    assert pages.read("/ui/dashboard").status_code == 200


def test_five_wrong_codes_lock_the_account_as_five_wrong_passwords_do(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    _, email = person(secretariat, "Gus Guesser", "appeals")
    pages = Pages(engine)
    pages.sign_in(email)
    secret = enrolled(pages)
    for attempt in range(4):
        assert pages.post("/ui/login/code", {"code": code_at(secret, now_step() + 10 + attempt)}).status_code == 401
    locked = pages.post("/ui/login/code", {"code": code_at(secret, now_step() + 20)})
    assert locked.status_code == 401 and REFUSED in locked.text
    ended = pages.post("/ui/login/code", {"code": code_at(secret, now_step())})  # the pending session is gone
    assert ended.status_code == 303 and ended.headers["location"] == "/ui/login"
    assert pages.get("/ui/dashboard").status_code == 401
    refused = Pages(engine).sign_in(email)
    assert refused.status_code == 401 and REFUSED in refused.text


def test_an_expert_needs_no_code(engine: RunningEngine, secretariat: Secretariat) -> None:
    _, expert = secretariat.expert()
    me = secretariat.expect(expert.get("/me"), 200)
    assert set_password(engine, me["account_id"]).status_code == 303
    answer = Pages(engine).sign_in(me["email"])
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/assignments"


def test_the_machine_administrators_token_which_cannot_give_a_code_opens_the_api_but_no_page(
    engine: RunningEngine,
) -> None:
    pages = Pages(engine)
    pages.get("/ui/login")
    answer = pages.post("/ui/login", {"token": ADMIN_TOKEN})
    assert answer.status_code == 403 and "opens the API only" in answer.text
    assert pages.session is None and pages.get("/ui/dashboard").status_code == 401
    # A session of the machine administrator's started before codes were asked for opens no page either.
    sessions = open_sessions(Settings(data_dir=engine.data_dir))
    try:
        pages.cookies[COOKIE] = sessions.start(MACHINE_ADMIN_SUBJECT)
    finally:
        sessions.close()
    assert pages.get("/ui/dashboard").status_code == 401
    assert httpx.get(f"{engine.url}/cases", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200


def test_a_staff_members_api_token_posted_to_the_sign_in_still_asks_for_the_code(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    pages = Pages(engine)
    answer = pages.sign_in_with_token(token_of(secretariat.member("Tara Token", "decider")))
    assert answer.status_code == 303 and answer.headers["location"].startswith(SECOND_FACTOR_PATH)
    assert pages.get("/ui/dashboard").status_code != 200


def test_a_staff_role_granted_to_someone_signed_in_without_a_code_ends_their_session(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    """An expert's session began without a code; once made an officer, it no longer opens a page, and the next
    sign-in asks for the code (else the new officer would act for hours with one factor)."""
    _, expert = secretariat.expert()
    me = secretariat.expect(expert.get("/me"), 200)
    assert set_password(engine, me["account_id"]).status_code == 303
    pages = Pages(engine)
    assert pages.sign_in(me["email"]).headers["location"] == "/ui/assignments"
    assert pages.get("/ui/assignments").status_code == 200

    secretariat.expect(secretariat.api.post(f"/accounts/{me['account_id']}/roles", json={"role": "officer"}), 200)

    assert pages.get("/ui/assignments").status_code != 200
    answer = Pages(engine).sign_in(me["email"])
    assert answer.status_code == 303 and answer.headers["location"].startswith(SECOND_FACTOR_PATH)
