"""Personal API tokens: each account's named tokens for scripts, with an expiry, a last-used time, and
revocation by their owner or an administrator.

Only a SHA-256 hash of a token is kept (tokens are 256 random bits; see tokens.py for why that is
enough), beside the event store for the reasons tokens.py gives. Instants are wall-clock UTC: a
token's life is a security matter, not business time.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import side_tables
from clusterlabel.interfaces.web.side_tables import AccountSideStore, instant_text, open_side_table
from clusterlabel.interfaces.web.tokens import new_token, token_hash

COLUMNS = (
    "token_id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL, name TEXT NOT NULL, "
    "created_at TEXT NOT NULL, expires_at TEXT NOT NULL, last_used_at TEXT, revoked_at TEXT"
)
DEFAULT_LIFETIME = timedelta(days=365)
MAX_LIFETIME = timedelta(days=2 * 365)
# Writing the last-used time on every request would turn each read into a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenInfo(BaseModel):
    """What an owner sees of a token (GET /accounts/{id}/tokens answers these): never the token itself."""

    token_id: UUID
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def open_account_tokens(settings: Settings) -> AccountTokens:
    return AccountTokens(open_side_table(settings, "account_tokens", COLUMNS))


class AccountTokens(AccountSideStore):
    def issue(
        self, account_id: UUID, name: str, lifetime: timedelta = DEFAULT_LIFETIME, token_id: UUID | None = None
    ) -> tuple[UUID, str]:
        """A new token (shown once) and its id (to list, rotate or revoke it by). Given the `token_id` of a live
        token (a request retried under its key: its caller never saw the first answer), that token's secret is
        replaced, so that no token lives that nobody holds."""
        token, now = new_token(), side_tables.wall_clock()
        if token_id is None:
            token_id = uuid.uuid4()
        elif self._table.count(
            "UPDATE {} SET token_hash = {p} WHERE account_id = {p} AND token_id = {p} AND revoked_at IS NULL "
            "AND expires_at > {p}",
            (token_hash(token), str(account_id), str(token_id), instant_text(now)),
        ):
            return token_id, token
        self._table.count(
            "INSERT INTO {} (token_id, token_hash, account_id, name, created_at, expires_at) "
            "VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            (str(token_id), token_hash(token), str(account_id), name, instant_text(now), instant_text(now + lifetime)),
        )
        return token_id, token

    def issue_once(self, account_id: UUID, name: str, token_id: UUID) -> str | None:
        """A new token under `token_id` (shown once), or None when a token of that id was ever issued (live,
        revoked or expired): one statement, so that of two requests racing for it only one gets a secret."""
        token, now = new_token(), side_tables.wall_clock()
        expires = instant_text(now + DEFAULT_LIFETIME)
        issued = self._table.count(
            "INSERT INTO {} (token_id, token_hash, account_id, name, created_at, expires_at) "
            "VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (token_id) DO NOTHING",
            (str(token_id), token_hash(token), str(account_id), name, instant_text(now), expires),
        )
        return token if issued == 1 else None

    def account_for(self, token: str) -> UUID | None:
        """The account a live token belongs to (None when unknown, revoked or expired); notes its use."""
        row = self._table.one(
            "SELECT token_id, account_id, expires_at, last_used_at FROM {} WHERE token_hash = {p} AND revoked_at IS NULL",
            (token_hash(token),),
        )
        if row is None:
            return None
        token_id, account_id, expires_at, last_used_at = row
        now = side_tables.wall_clock()
        if datetime.fromisoformat(expires_at) <= now:
            return None
        if last_used_at is None or datetime.fromisoformat(last_used_at) + LAST_USED_PRECISION <= now:
            self._table.count("UPDATE {} SET last_used_at = {p} WHERE token_id = {p}", (instant_text(now), token_id))
        return UUID(account_id)

    def tokens_of(self, account_id: UUID) -> list[TokenInfo]:
        rows = self._table.rows(
            "SELECT token_id, name, created_at, expires_at, last_used_at, revoked_at FROM {} "
            "WHERE account_id = {p} ORDER BY created_at, token_id",
            (str(account_id),),
        )
        return [_info(row) for row in rows]

    def get(self, account_id: UUID, token_id: UUID) -> TokenInfo | None:
        return next((info for info in self.tokens_of(account_id) if info.token_id == token_id), None)

    def revoke(self, account_id: UUID, token_id: UUID) -> bool:
        """End one of the account's tokens; False when it has no such live token."""
        changed = self._table.count(
            "UPDATE {} SET revoked_at = {p} WHERE account_id = {p} AND token_id = {p} AND revoked_at IS NULL",
            (instant_text(side_tables.wall_clock()), str(account_id), str(token_id)),
        )
        return changed == 1

    def revoke_all(self, account_id: UUID) -> int:
        return self._table.count(
            "UPDATE {} SET revoked_at = {p} WHERE account_id = {p} AND revoked_at IS NULL",
            (instant_text(side_tables.wall_clock()), str(account_id)),
        )


def _info(row: tuple[object, ...]) -> TokenInfo:
    token_id, name, created_at, expires_at, last_used_at, revoked_at = (str(v) if v is not None else None for v in row)
    assert token_id and name and created_at and expires_at
    return TokenInfo(
        token_id=UUID(token_id),
        name=name,
        created_at=datetime.fromisoformat(created_at),
        expires_at=datetime.fromisoformat(expires_at),
        last_used_at=datetime.fromisoformat(last_used_at) if last_used_at else None,
        revoked_at=datetime.fromisoformat(revoked_at) if revoked_at else None,
    )
