"""The staff's second factor: time-based one-time codes (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits),
as every authenticator app reads them from an otpauth:// URI.

The secret must be kept as it is (the server computes the same codes), so it lives beside the event
store like the other credentials. A code is accepted one step early or late (clocks drift, people
type slowly), and never twice: the last step used is kept, so a code seen over a shoulder is spent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode
from uuid import UUID

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.side_tables import AccountSideStore, open_side_table

COLUMNS = "account_id TEXT PRIMARY KEY, secret TEXT NOT NULL, confirmed INTEGER NOT NULL, last_step INTEGER"
STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps accepted either side of now
SECRET_BYTES = 20  # 160 bits, the length RFC 4226 recommends for HMAC-SHA1
ISSUER = "clusterlabel"


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def code_at(secret: str, step: int) -> str:
    """The code of one time step (RFC 4226's HOTP with the step as its counter)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The step within the window whose code this is, or None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, account_name: str) -> str:
    """What an authenticator app scans or is pasted: otpauth://totp/<issuer>:<name>?secret=…"""
    label = quote(f"{ISSUER}:{account_name}")
    query = urlencode(
        {"secret": secret, "issuer": ISSUER, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"


def open_second_factors(settings: Settings) -> SecondFactors:
    return SecondFactors(open_side_table(settings, "second_factors", COLUMNS))


class SecondFactors(AccountSideStore):
    def enrolled(self, account_id: UUID) -> bool:
        row = self._table.one("SELECT confirmed FROM {} WHERE account_id = {p}", (str(account_id),))
        return row is not None and bool(row[0])

    def pending_secret(self, account_id: UUID) -> str:
        """The secret being enrolled (a new one the first time); an enrolled account gets none."""
        self._table.count(
            "INSERT INTO {} (account_id, secret, confirmed) VALUES ({p}, {p}, 0) ON CONFLICT (account_id) DO NOTHING",
            (str(account_id), new_secret()),
        )
        row = self._table.one("SELECT secret, confirmed FROM {} WHERE account_id = {p}", (str(account_id),))
        assert row is not None
        if row[1]:
            raise ValueError("the account has a second factor already")
        return str(row[0])

    def verify(self, account_id: UUID, code: str, *, enrolling: bool = False) -> bool:
        """True for a fresh code of the account's secret (confirming it when enrolling); each step counts once."""
        row = self._table.one("SELECT secret, confirmed, last_step FROM {} WHERE account_id = {p}", (str(account_id),))
        if row is None or bool(row[1]) == enrolling:
            return False
        step = matching_step(str(row[0]), code)
        if step is None:
            return False
        # Only a later step than the last one used: a code is spent once, also by two posts racing.
        return (
            self._table.count(
                "UPDATE {} SET last_step = {p}, confirmed = 1 WHERE account_id = {p} "
                "AND (last_step IS NULL OR last_step < {p})",
                (step, str(account_id), step),
            )
            == 1
        )
