"""Cross-site request forgery: every POST under /ui/ must come from one of our own pages.

Two checks, both before any handler runs, so a forged post changes nothing:
- the form's `csrf_token` equals the session's (sessions.csrf_token_for; before sign-in, the
  pre-session cookie's), compared in constant time;
- the post comes from this site: its Origin (or, without one, its Referer) names it. Our pages send no
  Referer (Referrer-Policy: no-referrer), and for that same reason browsers send `Origin: null` with
  their form posts; the Fetch Metadata header Sec-Fetch-Site then says whether the post came from this
  origin, and a post that says none of this is refused.

Done here, in one place, rather than in each handler: a form added later is covered without a line.
The JSON API is not concerned (it reads no cookie: a bearer token cannot be forged by another site).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clusterlabel.interfaces.web import sessions
from clusterlabel.interfaces.web.pages import render

GUARDED_PREFIX = "/ui/"
FORGED = (
    "This form did not come from one of this site's pages, or it has expired. "
    "Nothing was recorded; go back, reload the page and try again."
)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_this_site(request: Request, public_url: str) -> bool:
    """The post's Origin, Referer or Fetch Metadata says it came from this site (as the browser reached
    it, or as the public reaches it through a proxy)."""
    ours = {origin_of(str(request.base_url)), origin_of(public_url)}
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return origin.lower() in ours
    referer = request.headers.get("referer")
    if referer:
        return origin_of(referer) in ours
    return request.headers.get("sec-fetch-site") == "same-origin"


def token_matches(request: Request, sent: object) -> bool:
    secret = sessions.csrf_secret(request.cookies)
    if secret is None or not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(sessions.csrf_token_for(secret).encode(), sent.encode("utf-8", "replace"))


class PageFormGuard:
    """ASGI middleware: a POST under /ui/ without this site's origin and the session's CSRF token is
    answered 403, its body read here and handed on unchanged to the handler otherwise."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(GUARDED_PREFIX):
            await self.app(scope, receive, send)
            return
        try:
            body = await _whole_body(receive)
        except StarletteHTTPException as error:  # over the size limit (errors.BodySizeLimit)
            await render(Request(scope), "home.html", None, error.status_code, flash=_error(error.detail))(
                scope, receive, send
            )
            return
        replay = _replaying(body, receive)
        request = Request(scope, replay)
        if not (from_this_site(request, self.public_url) and token_matches(request, await _sent_token(request))):
            await render(request, "home.html", None, 403, flash=_error(FORGED))(scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)


async def _sent_token(request: Request) -> object:
    form = await request.form()
    try:
        return form.get(sessions.CSRF_FIELD)
    finally:
        await form.close()


async def _whole_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the body read already once more, then waits on the real one (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _error(text: str) -> dict[str, str]:
    return {"kind": "error", "text": text}
