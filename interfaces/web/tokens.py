"""Bearer tokens: the secretariat's one token and one token per registered expert.

Only a SHA-256 hash of each token is kept. Tokens are 256 random bits, so a fast hash is enough (no
password stretching needed) and a lookup by hash is as good as a constant-time compare. They live beside
the event store rather than in it on purpose: a token is a credential, not a business fact; the event log
is append-only and shown in audit histories, so a hash written there could never be rotated away, and
revoking a leaked token must not rewrite history.

Beside the event store means, as `open_token_store` chooses: with the embedded SQLite store, the file
<data_dir>/tokens.sqlite; with PostgreSQL, the table clusterlabel_tokens in the event store's schema, so
that every API process on that database accepts a token whichever process issued it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.side_tables import PostgresSideTable, SQLiteSideFile

ADMIN = "admin"
EXPERT = "expert"
TOKEN_BYTES = 32
TOKENS_FILE = "tokens.sqlite"
TOKENS_TABLE = "clusterlabel_tokens"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Holder:
    """Whom a token belongs to: the secretariat, or one expert."""

    role: str
    expert_id: UUID | None = None


SECRETARIAT = Holder(ADMIN)


def open_token_store(settings: Settings) -> TokenStore:
    """The token store beside the settings' event store."""
    if settings.store() == "postgres":
        return PostgresTokenStore(settings.eventsourcing_env(), settings.admin_token)
    return SQLiteTokenStore(settings.ensure_data_dir() / TOKENS_FILE, settings.admin_token)


class TokenStore(ABC):
    """Issues and checks tokens; a backend keeps at most one token hash per holder, replaced atomically."""

    location: str  # where the hashes are kept, in words for an operator

    def __init__(self, admin_token: str | None) -> None:
        # A configured admin token (CLUSTERLABEL_ADMIN_TOKEN) wins over a stored one and is never stored.
        self._configured_admin = token_hash(admin_token) if admin_token else None

    @abstractmethod
    def close(self) -> None: ...

    # ---- the secretariat ------------------------------------------------------------

    def ensure_admin_token(self) -> str | None:
        """Generate the secretariat's token on first start; returns it then (to print once), else None.

        Of processes starting together, only the one whose token was kept gets it back.
        """
        if self._configured_admin is not None:
            return None
        token = new_token()
        return token if self._add_if_absent(SECRETARIAT, token_hash(token)) else None

    def rotate_admin_token(self) -> str:
        return self._issue(SECRETARIAT)

    # ---- experts ------------------------------------------------------------------

    def issue_expert_token(self, expert_id: UUID) -> str:
        """A new token for the expert, replacing any earlier one (a retried registration gets a fresh token)."""
        return self._issue(Holder(EXPERT, expert_id))

    def retire_expert_token(self, expert_id: UUID) -> bool:
        """Drop the expert's token from before accounts (their account's tokens replace it); whether there was one."""
        return self._drop(Holder(EXPERT, expert_id)) > 0

    # ---- checking -------------------------------------------------------------------

    def holder(self, token: str) -> Holder | None:
        """Who holds this token, or None for an unknown one."""
        digest = token_hash(token)
        if self._configured_admin is not None and hmac.compare_digest(digest, self._configured_admin):
            return SECRETARIAT
        found = self._find(digest)
        if found == SECRETARIAT and self._configured_admin is not None:
            return None  # A stored admin token stops counting once one is configured.
        return found

    # ---- what a backend provides -------------------------------------------------------

    def _issue(self, holder: Holder) -> str:
        token = new_token()
        self._replace(holder, token_hash(token))
        return token

    @abstractmethod
    def _replace(self, holder: Holder, digest: str) -> None:
        """Keep `digest` as the holder's one token, dropping any earlier one in the same transaction."""

    @abstractmethod
    def _add_if_absent(self, holder: Holder, digest: str) -> bool:
        """Keep `digest` for a holder who has no token yet; False, keeping nothing, if they have one."""

    @abstractmethod
    def _find(self, digest: str) -> Holder | None: ...

    @abstractmethod
    def _drop(self, holder: Holder) -> int:
        """Drop the holder's token; how many were dropped (0 or 1)."""


class SQLiteTokenStore(TokenStore):
    """Token hashes in a small SQLite file; safe to share between the server's threads."""

    def __init__(self, path: Path, admin_token: str | None = None) -> None:
        super().__init__(admin_token)
        self._file = SQLiteSideFile(
            path,
            "tokens",
            "token_hash TEXT PRIMARY KEY, role TEXT NOT NULL, expert_id TEXT UNIQUE, issued_at TEXT NOT NULL",
        )
        self.location = self._file.location

    def close(self) -> None:
        self._file.close()

    def _replace(self, holder: Holder, digest: str) -> None:
        with self._file.transaction() as db:
            db.execute("DELETE FROM tokens WHERE role = ? AND expert_id IS ?", _sqlite_key(holder))
            self._insert(db, holder, digest)

    def _add_if_absent(self, holder: Holder, digest: str) -> bool:
        with self._file.transaction() as db:
            if db.execute("SELECT 1 FROM tokens WHERE role = ? AND expert_id IS ?", _sqlite_key(holder)).fetchone():
                return False
            self._insert(db, holder, digest)
            return True

    def _find(self, digest: str) -> Holder | None:
        row = self._file.one("SELECT role, expert_id FROM tokens WHERE token_hash = ?", (digest,))
        if row is None:
            return None
        role, expert_id = row
        return Holder(role, None if expert_id is None else UUID(expert_id))

    def _drop(self, holder: Holder) -> int:
        with self._file.transaction() as db:
            return db.execute("DELETE FROM tokens WHERE role = ? AND expert_id IS ?", _sqlite_key(holder)).rowcount

    @staticmethod
    def _insert(db: sqlite3.Connection, holder: Holder, digest: str) -> None:
        db.execute(
            "INSERT INTO tokens (token_hash, role, expert_id, issued_at) VALUES (?, ?, ?, ?)",
            (digest, *_sqlite_key(holder), datetime.now(UTC).isoformat(timespec="seconds")),
        )


def _sqlite_key(holder: Holder) -> tuple[str, str | None]:
    return holder.role, None if holder.expert_id is None else str(holder.expert_id)


class PostgresTokenStore(TokenStore):
    """Token hashes in a table beside the event store's, shared by every API process on the database.

    The table is keyed by holder ("admin" or "expert:<id>"), so the primary key itself forbids a second
    token for one holder, and each replacement is a single upsert that row-locks the holder's row: two
    processes issuing at once leave one token, the later one.
    """

    def __init__(self, env: Mapping[str, str], admin_token: str | None = None) -> None:
        super().__init__(admin_token)
        self._table = PostgresSideTable(
            env,
            TOKENS_TABLE,
            "holder TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, issued_at TIMESTAMPTZ NOT NULL DEFAULT now()",
        )
        self.location = self._table.location

    def close(self) -> None:
        self._table.close()

    def _replace(self, holder: Holder, digest: str) -> None:
        self._table.count(
            "INSERT INTO {} (holder, token_hash) VALUES (%s, %s) "
            "ON CONFLICT (holder) DO UPDATE SET token_hash = EXCLUDED.token_hash, issued_at = now()",
            (_postgres_key(holder), digest),
        )

    def _add_if_absent(self, holder: Holder, digest: str) -> bool:
        added = self._table.count(
            "INSERT INTO {} (holder, token_hash) VALUES (%s, %s) ON CONFLICT (holder) DO NOTHING",
            (_postgres_key(holder), digest),
        )
        return added == 1

    def _find(self, digest: str) -> Holder | None:
        row = self._table.one("SELECT holder FROM {} WHERE token_hash = %s", (digest,))
        return None if row is None else _holder_of(row[0])

    def _drop(self, holder: Holder) -> int:
        return self._table.count("DELETE FROM {} WHERE holder = %s", (_postgres_key(holder),))


def _postgres_key(holder: Holder) -> str:
    return holder.role if holder.expert_id is None else f"{holder.role}:{holder.expert_id}"


def _holder_of(key: str) -> Holder:
    role, _, expert_id = key.partition(":")
    return Holder(role, UUID(expert_id) if expert_id else None)
