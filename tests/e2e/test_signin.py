"""People sign in to the pages with their e-mail address and password; sessions live on the server and
end there; every form is protected from cross-site forgery; a password is set by a one-time link."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from clusterlabel.interfaces.web.signin import LINK_GONE, REFUSED
from tests.e2e.driver import Secretariat
from tests.e2e.engine import ADMIN_TOKEN, RunningEngine
from tests.e2e.pages_client import PASSWORD, Pages, password_link, person, signed_in, with_token

HOSTILE_NEXT = [
    "javascript:alert(1)",
    "https://elsewhere/",
    "//elsewhere/ui/x",
    "/ui//elsewhere",
    "/\\elsewhere",
    "/ui/\\elsewhere",
    "/ui/x\r\nSet-Cookie: a=b",
    "/ui/../elsewhere",
    "/ui/x\"><script>alert('elsewhere')</script>",
]


def session_rows(engine: RunningEngine, statement: str, *params: object) -> list[tuple[object, ...]]:
    """The sessions' own table, as another process sees it."""
    with sqlite3.connect(engine.data_dir / "sessions.sqlite") as db:
        return db.execute(statement.format("sessions"), params).fetchall()


# ---- signing in and out ----------------------------------------------------------------------


def test_a_person_signs_in_with_email_and_password_and_signing_out_ends_the_session_on_the_server(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    _, email = person(secretariat, "Olga Officer", "officer")
    pages = Pages(engine)
    answer = pages.sign_in(email)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/dashboard"
    cookie = pages.set_cookies["clusterlabel_session"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # plain http here
    assert "Secretariat dashboard" in pages.read("/ui/dashboard").text
    stolen = pages.session
    assert stolen and not session_rows(engine, "SELECT * FROM {} WHERE session_hash = ?", stolen)  # a hash only

    assert pages.post("/ui/logout").status_code == 303
    assert pages.session is None
    copy = Pages(engine)
    copy.cookies["clusterlabel_session"] = stolen
    again = copy.get("/ui/dashboard")
    assert again.status_code == 401 and "Sign in" in again.text and "Secretariat dashboard" not in again.text


def test_five_wrong_passwords_lock_the_account_and_every_refusal_reads_as_one_for_an_unknown_address(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    _, email = person(secretariat, "Lena Locked", "officer")
    pages = Pages(engine)
    for attempt in range(5):
        answer = pages.sign_in(email, f"wrong password {attempt}")
        assert answer.status_code == 401 and REFUSED in answer.text, answer.text
    locked = pages.sign_in(email)  # the right password, now refused
    unknown = pages.sign_in("nobody.at.all@secretariat.example.org")
    assert locked.status_code == unknown.status_code == 401
    assert _flash(locked) == _flash(unknown) == REFUSED
    assert pages.session is None


def _flash(answer: httpx.Response) -> str:
    start = answer.text.index('role="status">') + len('role="status">')
    return answer.text[start : answer.text.index("</div>", start)]


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_a_hostile_next_reaches_no_link_form_or_redirect_and_sign_in_lands_on_the_dashboard(
    engine: RunningEngine, secretariat: Secretariat, hostile: str
) -> None:
    _, email = person(secretariat, "Nina Next", "officer")
    pages = Pages(engine)
    form = pages.get("/ui/login", params={"next": hostile})
    assert form.status_code == 200
    assert "elsewhere" not in form.text and "javascript:" not in form.text and 'name="next"' not in form.text
    answer = pages.sign_in(email, next_page=hostile)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/dashboard"


def test_a_page_asked_for_before_signing_in_is_where_the_sign_in_leads(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    _, email = person(secretariat, "Nina Next", "officer")
    pages = Pages(engine)
    shown = pages.get("/ui/dashboard", params={"state": "screening"})
    assert shown.status_code == 401 and 'name="next" value="/ui/dashboard"' in shown.text
    answer = pages.post("/ui/login", {"email": email, "password": PASSWORD, "next": "/ui/dashboard?state=screening"})
    assert answer.headers["location"] == "/ui/dashboard?state=screening"


def test_a_token_in_the_url_signs_no_one_in_and_the_machine_administrator_posts_it_instead(
    engine: RunningEngine,
) -> None:
    pages = Pages(engine)
    ignored = pages.get("/ui/dashboard", params={"token": ADMIN_TOKEN})
    assert ignored.status_code == 401 and pages.session is None
    assert pages.sign_in_with_token("not-a-token").status_code == 401
    admin = with_token(engine, ADMIN_TOKEN)
    assert "Secretariat dashboard" in admin.read("/ui/dashboard").text


def test_public_pages_set_no_cookie_and_the_sign_in_form_only_its_pre_session_one(engine: RunningEngine) -> None:
    for path in ("/", "/ui/registry", "/ui/verify"):
        assert "set-cookie" not in httpx.get(f"{engine.url}{path}").headers, path
    (cookie,) = httpx.get(f"{engine.url}/ui/login").headers.get_list("set-cookie")
    assert cookie.startswith("clusterlabel_presession=") and {"httponly", "samesite=strict"} <= {
        part.strip().lower() for part in cookie.split(";")
    }


def test_the_api_never_reads_the_pages_session_cookie(engine: RunningEngine) -> None:
    admin = with_token(engine, ADMIN_TOKEN)
    answer = httpx.get(f"{engine.url}/cases", cookies={"clusterlabel_session": str(admin.session)})
    assert answer.status_code == 401


# ---- forged posts ------------------------------------------------------------------------------


@pytest.fixture
def screening(secretariat: Secretariat) -> str:
    return secretariat.apply(secretariat.cluster())


@pytest.mark.parametrize(
    "forgery",
    [
        {"csrf": False},
        {"token": "0" * 64},
        {"origin": "https://elsewhere.example"},
        {"origin": ""},  # no Origin, no Referer, no Fetch Metadata: nothing says where it came from
        {"origin": "null", "headers": {"Sec-Fetch-Site": "cross-site"}},
        {"origin": "", "headers": {"Referer": "https://elsewhere.example/ui/cases"}},
    ],
)
def test_a_forged_form_post_is_refused_and_records_nothing(
    engine: RunningEngine, secretariat: Secretariat, screening: str, forgery: dict[str, object]
) -> None:
    pages = signed_in(secretariat, "Fred Forged", "officer")
    pages.read(f"/ui/cases/{screening}")
    before = secretariat.history(screening)
    if "token" in forgery:
        pages.csrf = str(forgery["token"])
    if "origin" in forgery:
        pages.origin = str(forgery["origin"])
    headers = forgery.get("headers")
    answer = pages.post(
        f"/ui/cases/{screening}/screening",
        {"accepted": "true", "reason": ""},
        csrf=bool(forgery.get("csrf", True)),
        headers=headers if isinstance(headers, dict) else None,
    )
    assert answer.status_code == 403, answer.text
    assert "did not come from one of this site" in answer.text
    assert secretariat.case(screening)["state"] == "screening"
    assert secretariat.history(screening) == before


def test_a_form_post_a_browser_sends_with_a_null_origin_from_our_own_page_is_let_through(
    engine: RunningEngine, secretariat: Secretariat, screening: str
) -> None:
    pages = signed_in(secretariat, "Fred Forged", "officer")
    pages.read(f"/ui/cases/{screening}")
    pages.origin = "null"  # what browsers send under Referrer-Policy: no-referrer
    answer = pages.post(
        f"/ui/cases/{screening}/screening", {"accepted": "true"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert pages.flash_after(answer) == ("ok", "screening recorded")
    assert secretariat.case(screening)["state"] != "screening"


def test_a_sign_in_or_sign_out_without_the_csrf_token_is_refused(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    _, email = person(secretariat, "Sam Signout", "officer")
    pages = Pages(engine)
    pages.get("/ui/login")
    assert pages.post("/ui/login", {"email": email, "password": PASSWORD}, csrf=False).status_code == 403
    assert pages.session is None
    pages.sign_in(email)
    assert pages.post("/ui/logout", csrf=False).status_code == 403
    assert pages.read("/ui/dashboard").status_code == 200  # still signed in


# ---- expiry and deactivation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "age"), [("last_seen_at", timedelta(minutes=31)), ("created_at", timedelta(hours=13))]
)
def test_an_idle_or_too_old_session_sends_the_browser_back_to_sign_in(
    engine: RunningEngine, secretariat: Secretariat, column: str, age: timedelta
) -> None:
    account_id, email = person(secretariat, "Ida Idle", "officer")
    pages = Pages(engine)
    pages.sign_in(email)
    pages.read("/ui/dashboard")
    then = (datetime.now(UTC) - age).isoformat(timespec="seconds")
    session_rows(engine, f"UPDATE {{}} SET {column} = ? WHERE account_id = ?", then, account_id)
    answer = pages.get("/ui/dashboard")
    assert answer.status_code == 401 and "Your session has ended; please sign in again." in answer.text
    assert not session_rows(engine, "SELECT * FROM {} WHERE account_id = ?", account_id)


def test_deactivating_an_account_ends_its_sessions_at_once(engine: RunningEngine, secretariat: Secretariat) -> None:
    account_id, email = person(secretariat, "Dora Departing", "officer")
    first, second = Pages(engine), Pages(engine)
    first.sign_in(email)
    second.sign_in(email)
    assert first.read("/ui/dashboard").status_code == second.read("/ui/dashboard").status_code == 200
    secretariat.expect(secretariat.api.post(f"/accounts/{account_id}/deactivation", json={}), 200)
    assert first.get("/ui/dashboard").status_code == second.get("/ui/dashboard").status_code == 401
    assert not session_rows(engine, "SELECT * FROM {} WHERE account_id = ?", account_id)
    assert first.sign_in(email).status_code == 401  # the password no longer signs in either


def test_revoking_a_token_ends_the_page_sessions_it_may_have_started(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    secretariat.member("Tom Tokened", "officer")
    account_id, token = engine.accounts["Tom Tokened"]
    by_token = Pages(engine)
    assert by_token.sign_in_with_token(token).status_code == 303
    assert by_token.read("/ui/dashboard").status_code == 200
    own = engine.client(token)
    token_id = next(t["token_id"] for t in own.get(f"/accounts/{account_id}/tokens").json() if t["revoked_at"] is None)

    assert own.delete(f"/accounts/{account_id}/tokens/{token_id}").status_code == 204

    assert by_token.get("/ui/dashboard").status_code == 401
    assert not session_rows(engine, "SELECT * FROM {} WHERE account_id = ?", account_id)


# ---- one-time links ------------------------------------------------------------------------------


def test_a_one_time_link_sets_a_password_once_and_never_again(engine: RunningEngine, secretariat: Secretariat) -> None:
    secretariat.member("Lars Link", "officer")
    account_id = engine.accounts["Lars Link"][0]
    link = urlsplit(password_link(engine, account_id))
    assert link.path == "/ui/password" and link.query.startswith("link=")
    token = link.query.removeprefix("link=")
    pages = Pages(engine)
    for _ in range(2):  # opening it (a mail scanner too) spends nothing
        form = pages.read(f"/ui/password?{link.query}")
        assert form.headers["referrer-policy"] == "no-referrer" and form.headers["cache-control"] == "no-store"
    short = pages.post("/ui/password", {"link": token, "password": "too short", "confirm": "too short"})
    assert short.status_code == 422 and "at least 12 characters" in short.text
    email = "lars.link@secretariat.example.org"
    same = pages.post("/ui/password", {"link": token, "password": email, "confirm": email})
    assert same.status_code == 422 and "must not be the e-mail address" in same.text
    done = pages.post("/ui/password", {"link": token, "password": PASSWORD, "confirm": PASSWORD})
    assert done.headers["location"] == "/ui/login" and "password is set" in pages.flash_after(done)[1]

    again = pages.post("/ui/password", {"link": token, "password": "another password!", "confirm": "another password!"})
    assert again.status_code == 404 and LINK_GONE in again.text
    assert pages.get(f"/ui/password?{link.query}").status_code == 404
    assert Pages(engine).sign_in(email, "another password!").status_code == 401
    assert Pages(engine).sign_in(email).status_code == 303


def test_a_newer_link_voids_the_older_and_a_new_password_ends_every_session(
    engine: RunningEngine, secretariat: Secretariat
) -> None:
    account_id, email = person(secretariat, "Rita Reset", "officer")
    signed = Pages(engine)
    signed.sign_in(email)
    older = urlsplit(password_link(engine, account_id)).query
    newer = urlsplit(password_link(engine, account_id)).query
    pages = Pages(engine)
    assert pages.get(f"/ui/password?{older}").status_code == 404
    pages.read(f"/ui/password?{newer}")
    new_password = "a new and longer password"
    token = newer.removeprefix("link=")
    assert (
        pages.post("/ui/password", {"link": token, "password": new_password, "confirm": new_password}).status_code
        == 303
    )
    assert signed.get("/ui/dashboard").status_code == 401
    assert Pages(engine).sign_in(email, new_password).status_code == 303
