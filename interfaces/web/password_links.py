"""One-time links to set a password: a person's first sign-in, and a reset.

A link carries a random token; the server keeps its SHA-256 hash, the account and an expiry, beside the
event store. Opening the link only shows the form: the token is used up when the new password is
posted, so a mail scanner that follows links does not spend it. Issuing a new link voids the account's
older ones.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode
from uuid import UUID

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import side_tables
from clusterlabel.interfaces.web.side_tables import AccountSideStore, instant_text, open_side_table
from clusterlabel.interfaces.web.tokens import token_hash

COLUMNS = (
    "link_hash TEXT PRIMARY KEY, account_id TEXT NOT NULL, created_at TEXT NOT NULL, "
    "expires_at TEXT NOT NULL, used_at TEXT"
)
# A day: time enough to read the mail the next morning, short enough that an old mailbox holds no key.
LINK_LIFETIME = timedelta(hours=24)
PASSWORD_PATH = "/ui/password"


def open_password_links(settings: Settings) -> PasswordLinks:
    return PasswordLinks(open_side_table(settings, "password_links", COLUMNS))


class PasswordLinks(AccountSideStore):
    def issue(self, account_id: UUID, lifetime: timedelta = LINK_LIFETIME) -> str:
        """A new link token for the account (shown once); its older unused links stop working."""
        token, now = secrets.token_urlsafe(32), side_tables.wall_clock()
        self._table.count(
            "UPDATE {} SET used_at = {p} WHERE account_id = {p} AND used_at IS NULL",
            (instant_text(now), str(account_id)),
        )
        self._table.count(
            "INSERT INTO {} (link_hash, account_id, created_at, expires_at) VALUES ({p}, {p}, {p}, {p})",
            (token_hash(token), str(account_id), instant_text(now), instant_text(now + lifetime)),
        )
        return token

    def account_for(self, token: str) -> UUID | None:
        """The account an unused, unexpired link is for; the link stays usable."""
        row = self._table.one(
            "SELECT account_id FROM {} WHERE link_hash = {p} AND used_at IS NULL AND expires_at > {p}",
            (token_hash(token), instant_text(side_tables.wall_clock())),
        )
        return None if row is None else UUID(row[0])

    def use(self, token: str) -> UUID | None:
        """Spend the link: its account, or None when it was unknown, used or expired (also by a racing post)."""
        row = self._table.one(
            "UPDATE {} SET used_at = {p} WHERE link_hash = {p} AND used_at IS NULL AND expires_at > {p} "
            "RETURNING account_id",
            (instant_text(side_tables.wall_clock()), token_hash(token), instant_text(side_tables.wall_clock())),
        )
        return None if row is None else UUID(row[0])


def issue_password_link(links: PasswordLinks, account_id: UUID, public_url: str) -> str:
    """The full one-time link for the account to set its password (first sign-in or reset), valid for
    LINK_LIFETIME; for the CLI (`clusterlabel accounts reset-link`) to print or mail. It does not check
    that the account exists or is active: the caller does (a link for a deactivated account signs no one in)."""
    return f"{public_url.rstrip('/')}{PASSWORD_PATH}?{urlencode({'link': links.issue(account_id)})}"
