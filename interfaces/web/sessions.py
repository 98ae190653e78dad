"""The pages' server-side sessions: a random id in a cookie, only its SHA-256 hash on the server.

A session names who signed in (an account, or the machine administrator), never their roles: each
request resolves the account afresh (auth.principal_of_account), so a revoked role or a deactivated
account takes effect at once. Sessions end by logout, by idle or absolute expiry, by a new password,
and all of an account's at its deactivation. Kept beside the event store (a session is no business
fact); instants are wall-clock UTC, as for the API tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import side_tables
from clusterlabel.interfaces.web.side_tables import AccountSideStore, instant_text, open_side_table
from clusterlabel.interfaces.web.tokens import token_hash

COLUMNS = (
    "session_hash TEXT PRIMARY KEY, subject TEXT NOT NULL, account_id TEXT, pending_factor INTEGER NOT NULL, "
    "created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL"
)
COOKIE = "clusterlabel_session"
# Before sign-in there is no session to tie a form to: the sign-in and password forms use this cookie's.
PRESESSION_COOKIE = "clusterlabel_presession"
CSRF_FIELD = "csrf_token"
# A desk left for half an hour is signed out; nobody stays signed in past a long working day, however busy.
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_LIFETIME = timedelta(hours=12)
# Noting the last use on every request would make each page view a write; a minute is precise enough.
LAST_SEEN_PRECISION = timedelta(minutes=1)
ID_BYTES = 32  # 256 random bits: guessing one is hopeless, so a fast hash of it is enough
MACHINE_ADMIN = "machine-admin"
ACCOUNT = "account:"
EXPERT = "expert:"


@dataclass(frozen=True)
class Session:
    subject: str  # "account:<id>", "machine-admin", or "expert:<id>" (an expert's token from before accounts)
    pending_factor: bool  # signed in with a password, the second factor still to give

    @property
    def account_id(self) -> UUID | None:
        return UUID(self.subject.removeprefix(ACCOUNT)) if self.subject.startswith(ACCOUNT) else None


def open_sessions(settings: Settings) -> Sessions:
    return Sessions(open_side_table(settings, "sessions", COLUMNS))


class Sessions(AccountSideStore):
    def start(self, subject: str, *, pending_factor: bool = False) -> str:
        """A new session's id, for the cookie (the server keeps only its hash)."""
        session_id, now = secrets.token_urlsafe(ID_BYTES), instant_text(side_tables.wall_clock())
        account_id = subject.removeprefix(ACCOUNT) if subject.startswith(ACCOUNT) else None
        self._table.count(
            "INSERT INTO {} (session_hash, subject, account_id, pending_factor, created_at, last_seen_at) "
            "VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            (token_hash(session_id), subject, account_id, int(pending_factor), now, now),
        )
        return session_id

    def resolve(self, session_id: str | None) -> Session | None:
        """The live session with this id, its use noted; None (and the row gone) once it has expired."""
        if not session_id:
            return None
        digest = token_hash(session_id)
        row = self._table.one(
            "SELECT subject, pending_factor, created_at, last_seen_at FROM {} WHERE session_hash = {p}", (digest,)
        )
        if row is None:
            return None
        subject, pending, created_at, last_seen_at = row
        now = side_tables.wall_clock()
        last_seen = datetime.fromisoformat(last_seen_at)
        if now - last_seen >= IDLE_TIMEOUT or now - datetime.fromisoformat(created_at) >= ABSOLUTE_LIFETIME:
            self._table.count("DELETE FROM {} WHERE session_hash = {p}", (digest,))
            return None
        if now - last_seen >= LAST_SEEN_PRECISION:
            self._table.count("UPDATE {} SET last_seen_at = {p} WHERE session_hash = {p}", (instant_text(now), digest))
        return Session(str(subject), bool(pending))

    def end(self, session_id: str | None) -> None:
        if session_id:
            self._table.count("DELETE FROM {} WHERE session_hash = {p}", (token_hash(session_id),))

    def end_account(self, account_id: UUID) -> int:
        """End every session of the account (deactivated, or a new password set)."""
        return self.forget_account(account_id)

    def end_subject(self, subject: str) -> int:
        return self._table.count("DELETE FROM {} WHERE subject = {p}", (subject,))

    def forget_expired(self) -> int:
        """Remove the rows of sessions nobody can use any more (a sign-in does it, so the table stays small)."""
        now = side_tables.wall_clock()
        return self._table.count(
            "DELETE FROM {} WHERE last_seen_at <= {p} OR created_at <= {p}",
            (instant_text(now - IDLE_TIMEOUT), instant_text(now - ABSOLUTE_LIFETIME)),
        )


def subject_of_account(account_id: UUID) -> str:
    return f"{ACCOUNT}{account_id}"


def secure_cookies(request: Request, public_url: str) -> bool:
    """Cookies are Secure when the page is served over HTTPS, seen directly or behind a proxy whose
    public URL is https (the proxy then speaks plain HTTP to us, and the request's scheme would say http)."""
    return request.url.scheme == "https" or public_url.startswith("https://")


def set_session_cookie(response: Response, session_id: str, secure: bool) -> None:
    # HttpOnly: no script reads it. Lax: a link from an e-mail to a case opens it signed in, while a
    # cross-site POST carries no cookie (the CSRF token and the Origin check are the other two walls).
    # No max_age: the browser forgets it when closed; the server ends it earlier by the expiries above.
    response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax", secure=secure, path="/")


def clear_session_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=secure, path="/")


# ---- the forms' CSRF token ---------------------------------------------------------------------------


def csrf_secret(cookies: dict[str, str]) -> str | None:
    """What a form's CSRF token is derived from: the session's id, or before sign-in the pre-session cookie."""
    return cookies.get(COOKIE) or cookies.get(PRESESSION_COOKIE) or None


def csrf_token_for(secret: str) -> str:
    """The session's CSRF token: an HMAC of its secret id, so it is per session, needs no storage, and
    tells nothing of the id itself to whoever reads it in a page."""
    return hmac.new(secret.encode("utf-8"), b"clusterlabel form", hashlib.sha256).hexdigest()


def new_presession() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def set_presession_cookie(response: Response, value: str, secure: bool) -> None:
    # Strict: it is only ever needed by our own forms, posted from our own pages.
    response.set_cookie(PRESESSION_COOKIE, value, httponly=True, samesite="strict", secure=secure, path="/")


def clear_presession_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(PRESESSION_COOKIE, httponly=True, samesite="strict", secure=secure, path="/")
