"""Bearer tokens: the secretariat's one token and one token per registered expert.

Only a SHA-256 hash of each token is kept, in <data_dir>/tokens.sqlite. Tokens are 256 random bits, so a
fast hash is enough (no password stretching needed) and a lookup by hash is as good as a constant-time
compare. They live beside the event store rather than in it on purpose: a token is a credential, not a
business fact; the event log is append-only and shown in audit histories, so a hash written there could
never be rotated away, and revoking a leaked token must not rewrite history.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

ADMIN = "admin"
EXPERT = "expert"
TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Holder:
    """Whom a token belongs to: the secretariat, or one expert."""

    role: str
    expert_id: UUID | None = None


class TokenStore:
    """Token hashes in a small SQLite file; safe to share between the server's threads."""

    def __init__(self, path: Path, admin_token: str | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)  # hashes only, yet nobody else needs to read them
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=wal")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS tokens (token_hash TEXT PRIMARY KEY, role TEXT NOT NULL, "
            "expert_id TEXT UNIQUE, issued_at TEXT NOT NULL)"
        )
        # A configured admin token (CLUSTERLABEL_ADMIN_TOKEN) wins over a stored one and is never stored.
        self._configured_admin = token_hash(admin_token) if admin_token else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- the secretariat ------------------------------------------------------------

    def ensure_admin_token(self) -> str | None:
        """Generate the secretariat's token on first start; returns it then (to print once), else None."""
        if self._configured_admin is not None:
            return None
        with self._lock:
            row = self._db.execute("SELECT 1 FROM tokens WHERE role = ?", (ADMIN,)).fetchone()
        return None if row else self.rotate_admin_token()

    def rotate_admin_token(self) -> str:
        token = new_token()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM tokens WHERE role = ?", (ADMIN,))
            self._db.execute(
                "INSERT INTO tokens (token_hash, role, expert_id, issued_at) VALUES (?, ?, NULL, ?)",
                (token_hash(token), ADMIN, _now()),
            )
            self._db.execute("COMMIT")
        return token

    # ---- experts ------------------------------------------------------------------

    def issue_expert_token(self, expert_id: UUID) -> str:
        """A new token for the expert, replacing any earlier one (a retried registration gets a fresh token)."""
        token = new_token()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM tokens WHERE expert_id = ?", (str(expert_id),))
            self._db.execute(
                "INSERT INTO tokens (token_hash, role, expert_id, issued_at) VALUES (?, ?, ?, ?)",
                (token_hash(token), EXPERT, str(expert_id), _now()),
            )
            self._db.execute("COMMIT")
        return token

    # ---- checking -------------------------------------------------------------------

    def holder(self, token: str) -> Holder | None:
        """Who holds this token, or None for an unknown one."""
        digest = token_hash(token)
        if self._configured_admin is not None and hmac.compare_digest(digest, self._configured_admin):
            return Holder(ADMIN)
        with self._lock:
            row = self._db.execute("SELECT role, expert_id FROM tokens WHERE token_hash = ?", (digest,)).fetchone()
        if row is None:
            return None
        role, expert_id = row
        if role == ADMIN:
            # A stored admin token stops counting once one is configured.
            return None if self._configured_admin is not None else Holder(ADMIN)
        return Holder(EXPERT, UUID(expert_id))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
