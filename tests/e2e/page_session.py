"""How the page tests sign in: the one place to change when the pages' sign-in changes.

Today a page's caller signs in with an API token (`?token=` once, then the page cookie); the sign-in
with e-mail and password replaces that, and only these two functions should need to follow.
"""

from __future__ import annotations

import httpx

from tests.e2e import browser as chromium
from tests.e2e.engine import RunningEngine

COOKIE = "clusterlabel_token"


def pages_as(engine: RunningEngine, token: str) -> httpx.Client:
    """An HTTP client signed in to the pages as the token's holder; redirects are left to the test."""
    return httpx.Client(base_url=engine.url, cookies={COOKIE: token}, timeout=60, follow_redirects=False)


def sign_in(browser: chromium.Browser, engine: RunningEngine, token: str, path: str) -> None:
    """Sign the browser in as the token's holder and open `path`."""
    browser.go(f"{engine.url}{path}?token={token}")


def token_of(client: httpx.Client) -> str:
    """The API token an API client of the tests' driver carries."""
    return str(client.headers["Authorization"]).removeprefix("Bearer ")
