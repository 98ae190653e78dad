"""People's passwords for the pages: argon2id hashes, and a lockout after repeated failures.

Kept beside the event store, never in it (a credential is no business fact, and the log could never
forget a hash). Only argon2id hashes are stored (argon2-cffi's PasswordHasher, its RFC 9106 defaults).

A refusal says the same whatever went wrong (unknown e-mail, no password yet, wrong password, locked),
and costs the same: an unknown account is checked against a dummy hash, so neither the answer nor its
time tells whether an address has an account.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web import side_tables
from clusterlabel.interfaces.web.side_tables import AccountSideStore, instant_text, open_side_table

COLUMNS = (
    "account_id TEXT PRIMARY KEY, password_hash TEXT, failures INTEGER NOT NULL DEFAULT 0, "
    "locked_until TEXT, changed_at TEXT"
)
# Five wrong tries in a row lock the account's sign-in for fifteen minutes: an online guesser gets
# 480 tries a day at most, while a person who mistyped waits a quarter of an hour (or asks for a link).
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_LENGTH = 12
# argon2 hashes whatever it is given; a megabyte-long "password" would only be a way to spend our CPU.
MAX_LENGTH = 1_000

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Checked against when there is no hash to check: the same work as a real check."""
    return _hasher.hash(secrets.token_urlsafe(16))


def password_problem(password: str, email: str | None) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if email is not None and password.strip().lower() == email.strip().lower():
        return "a password must not be the e-mail address"
    return None


def open_passwords(settings: Settings) -> Passwords:
    return Passwords(open_side_table(settings, "passwords", COLUMNS))


class Passwords(AccountSideStore):
    def set(self, account_id: UUID, password: str) -> None:
        """Store a new password's hash; it also lifts a lockout (the person proved themselves by a link)."""
        digest = _hasher.hash(password)
        self._table.count(
            "INSERT INTO {} (account_id, password_hash, failures, locked_until, changed_at) "
            "VALUES ({p}, {p}, 0, NULL, {p}) ON CONFLICT (account_id) DO UPDATE SET "
            "password_hash = excluded.password_hash, failures = 0, locked_until = NULL, changed_at = excluded.changed_at",
            (str(account_id), digest, instant_text(side_tables.wall_clock())),
        )

    def check(self, account_id: UUID | None, password: str) -> bool:
        """True when the account has this password and is not locked; a wrong one counts as a failure."""
        row = None if account_id is None else self._row(account_id)
        stored = row[0] if row is not None and row[0] else None
        matches = _verifies(stored or _dummy_hash(), password[:MAX_LENGTH]) and stored is not None
        if account_id is None or stored is None:
            return False
        if self.locked(account_id):
            return False
        if not matches:
            self.failed(account_id)
            return False
        self._succeeded(account_id, stored, password)
        return True

    def locked(self, account_id: UUID) -> bool:
        row = self._row(account_id)
        return row is not None and row[2] is not None and datetime.fromisoformat(row[2]) > side_tables.wall_clock()

    def failed(self, account_id: UUID) -> None:
        """Count a failed try (a password or a second-factor code); the fifth in a row locks the account."""
        row = self._table.one(
            "UPDATE {} SET failures = failures + 1 WHERE account_id = {p} RETURNING failures", (str(account_id),)
        )
        if row is not None and int(row[0]) >= MAX_FAILURES:
            self._table.count(
                "UPDATE {} SET failures = 0, locked_until = {p} WHERE account_id = {p}",
                (instant_text(side_tables.wall_clock() + LOCKOUT), str(account_id)),
            )

    def has_password(self, account_id: UUID) -> bool:
        row = self._row(account_id)
        return row is not None and row[0] is not None

    def _succeeded(self, account_id: UUID, stored: str, password: str) -> None:
        # Rehashed when the library's parameters have grown since the hash was made.
        if _hasher.check_needs_rehash(stored):
            self.set(account_id, password)
        else:
            self._table.count("UPDATE {} SET failures = 0 WHERE account_id = {p}", (str(account_id),))

    def _row(self, account_id: UUID) -> tuple[str | None, int, str | None] | None:
        row = self._table.one(
            "SELECT password_hash, failures, locked_until FROM {} WHERE account_id = {p}", (str(account_id),)
        )
        return None if row is None else (row[0], int(row[1]), row[2])


def _verifies(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False
