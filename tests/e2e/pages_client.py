"""The pages as a browser uses them, for the tests: cookies kept as a browser keeps them, the CSRF token
of the last page read sent with each form, and this site's Origin on every post.

Cookies are kept here rather than in httpx's jar: a Secure cookie (an engine whose public URL is https)
would never be sent back over the tests' plain http, where a browser on the real https site would.
"""

from __future__ import annotations

import html
import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.password_links import issue_password_link, open_password_links
from clusterlabel.interfaces.web.sessions import COOKIE
from tests.e2e.driver import Secretariat
from tests.e2e.engine import RunningEngine

FLASH = re.compile(r'<div class="flash (ok|error)" role="status">(.*?)</div>', re.S)
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')
LINK_INPUT = re.compile(r'name="link" value="([^"]*)"')
PASSWORD = "correct horse battery staple"


class Pages:
    def __init__(self, engine: RunningEngine, origin: str | None = None) -> None:
        self.engine = engine
        self.http = httpx.Client(base_url=engine.url, timeout=60)
        self.origin = engine.url if origin is None else origin
        self.cookies: dict[str, str] = {}
        self.set_cookies: dict[str, str] = {}  # each cookie's last Set-Cookie header, to read its attributes
        self.csrf = ""

    def get(self, path: str, headers: dict[str, str] | None = None, **options: Any) -> httpx.Response:
        return self._noted(self.http.get(path, headers={**self._cookie_header(), **(headers or {})}, **options))

    def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        form = {**(data or {}), **({"csrf_token": self.csrf} if csrf else {})}
        sent = {**({"Origin": self.origin} if self.origin else {}), **self._cookie_header(), **(headers or {})}
        return self._noted(self.http.post(path, data=form, headers=sent))

    @property
    def session(self) -> str | None:
        return self.cookies.get(COOKIE)

    def sign_in(self, email: str, password: str = PASSWORD, next_page: str | None = None) -> httpx.Response:
        self.get("/ui/login")
        return self.post(
            "/ui/login", {"email": email, "password": password, **({"next": next_page} if next_page else {})}
        )

    def sign_in_with_token(self, token: str) -> httpx.Response:
        self.get("/ui/login")
        return self.post("/ui/login", {"token": token})

    def flash_after(self, answer: httpx.Response) -> tuple[str, str]:
        """The message (its kind, ok or error, and its text) the page a form's redirect leads to shows once;
        it travels in a cookie, never in the address (interfaces/web/flash.py)."""
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
        location = answer.headers["location"]
        assert "error=" not in location and "done=" not in location, location
        found = FLASH.search(self.get(location).text)
        assert found, f"no message on {location}"
        return found.group(1), html.unescape(found.group(2))

    def shown_again(self, answer: httpx.Response, status: int) -> str:
        """The reason a refused form gives when it is shown again in answer to its post, its fields as typed
        (interfaces/web/forms.py), at the refusal's status rather than by a redirect."""
        assert answer.status_code == status, (answer.status_code, answer.text[:500])
        found = FLASH.search(answer.text)
        assert found and found.group(1) == "error", "no refusal on the form shown again"
        return html.unescape(found.group(2))

    def read(self, path: str) -> httpx.Response:
        """GET a page, which must answer 200 (and so gives this client the page's CSRF token)."""
        answer = self.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:2000])
        return answer

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _noted(self, answer: httpx.Response) -> httpx.Response:
        self.http.cookies.clear()
        for header in answer.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.set_cookies[name] = header
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        found = CSRF_INPUT.search(answer.text)
        if found:
            self.csrf = found.group(1)
        return answer


def password_link(engine: RunningEngine, account_id: str) -> str:
    """A one-time link for the account, issued as `clusterlabel accounts reset-link` does: beside the
    running engine's event store, from another process's connection."""
    links = open_password_links(Settings(data_dir=engine.data_dir))
    try:
        return issue_password_link(links, UUID(account_id), engine.url)
    finally:
        links.close()


def set_password(engine: RunningEngine, account_id: str, password: str = PASSWORD) -> httpx.Response:
    """Follow a fresh one-time link and set the password through the form."""
    pages = Pages(engine)
    link = urlsplit(password_link(engine, account_id))
    pages.read(f"{link.path}?{link.query}")
    return pages.post(
        "/ui/password", {"link": link.query.removeprefix("link="), "password": password, "confirm": password}
    )


def person(secretariat: Secretariat, name: str, *roles: str, password: str = PASSWORD) -> tuple[str, str]:
    """An account for `name` with a password set by its one-time link: its id and e-mail address."""
    secretariat.member(name, *roles)
    account_id = secretariat.engine.accounts[name][0]
    email = secretariat.expect(secretariat.api.get(f"/accounts/{account_id}"), 200)["email"]
    answer = set_password(secretariat.engine, account_id, password)
    assert answer.status_code == 303, answer.text[:2000]
    return account_id, email


def signed_in(secretariat: Secretariat, name: str, *roles: str) -> Pages:
    """A page client signed in as `name` (their account opened and password set on first use)."""
    pages = Pages(secretariat.engine)
    _, email = person(secretariat, name, *roles)
    answer = pages.sign_in(email)
    assert answer.status_code == 303, answer.text[:2000]
    return pages


def with_token(engine: RunningEngine, token: str) -> Pages:
    """A page client signed in with an API token (the machine administrator's, or an account's)."""
    pages = Pages(engine)
    answer = pages.sign_in_with_token(token)
    assert answer.status_code == 303, answer.text[:2000]
    return pages
