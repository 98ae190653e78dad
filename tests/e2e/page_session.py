"""How the page tests sign in: the sign-in form's token way (a token posted, never in an address), for an
HTTP client that keeps its session and CSRF token as a browser does, and for headless Chromium."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from tests.e2e import browser as chromium
from tests.e2e.engine import RunningEngine, eventually
from tests.e2e.pages_client import Pages


def pages_as(engine: RunningEngine, token: str) -> Pages:
    """Pages signed in as the token's holder; each form it posts carries the last page's CSRF token."""
    pages = Pages(engine)
    answer = pages.sign_in_with_token(token)
    assert answer.status_code == 303, answer.text
    pages.read("/")  # the session's own CSRF token, from the sign-out form every page carries
    return pages


def sign_in(browser: chromium.Browser, engine: RunningEngine, token: str, path: str) -> None:
    """Sign the browser in as the token's holder through the sign-in form; it lands on `path`."""
    browser.go(f"{engine.url}/ui/login?{urlencode({'next': path})}")
    browser.click("details summary")
    browser.type("#token", token)
    browser.click("#token-signin button[type=submit]")
    eventually(lambda: browser.url.split("?")[0].endswith(path), 15, f"the browser to land on {path}")


def token_of(client: httpx.Client) -> str:
    """The API token an API client of the tests' driver carries."""
    return str(client.headers["Authorization"]).removeprefix("Bearer ")
