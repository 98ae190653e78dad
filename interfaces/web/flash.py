"""The one-line message a page shows after a form (a step recorded, or why it was refused).

It travels to the next page in a short-lived cookie, never in the address: a refusal may name a person
or an e-mail address, which must not land in browser history or proxy logs, and a page never shows
text that a link from elsewhere put in its address (`?error=Call this number…`). The cookie is
HttpOnly and set only by our own answers, so another site cannot write it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

COOKIE = "clusterlabel_flash"
MAX_CHARS = 1_000  # a cookie holds 4 KB at most; a flash is a line or a few
LIFETIME_SECONDS = 60  # read by the very next page; left unread, it is gone soon anyway
PATH = "/ui"


def redirect(path: str, kind: str, text: str, *, secure: bool) -> RedirectResponse:
    """303 to `path`, whose page then shows `text` (kind "ok" or "error") once."""
    response = RedirectResponse(path, status_code=303)
    value = base64.urlsafe_b64encode(json.dumps({"kind": kind, "text": text[:MAX_CHARS]}).encode()).decode()
    response.set_cookie(
        COOKIE, value, max_age=LIFETIME_SECONDS, path=PATH, httponly=True, samesite="lax", secure=secure
    )
    return response


def taken(request: Request) -> dict[str, str] | None:
    """The flash the last answer left for this page, if any (a malformed cookie counts as none)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        found: Any = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if (
        not isinstance(found, dict)
        or found.get("kind") not in ("ok", "error")
        or not isinstance(found.get("text"), str)
    ):
        return None
    return {"kind": found["kind"], "text": found["text"][:MAX_CHARS]}


def spent(request: Request, response: Response) -> None:
    """Shown once: the page that read the flash clears it."""
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path=PATH)


def form_errors(error: ValidationError) -> str:
    """A form's refused fields, one per line (the flash keeps line breaks); never echoing the input."""
    return "\n".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_input=False))
