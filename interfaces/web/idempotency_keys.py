"""The Idempotency-Keys the API has seen, each with the fingerprint of the one request it stands for.

Kept beside the event store like the tokens (interfaces.web.side_tables): with the embedded SQLite
store, the file <data_dir>/idempotency_keys.sqlite; with PostgreSQL, the table
clusterlabel_idempotency_keys in the event store's schema, so that every API process on that database
refuses a key that another one saw used for a different request.

A key is held from the moment a request claims it: `succeeded` keeps it for good (the commands it
keyed are in the event log for good, too), `release` lets it go after a refusal. Only the fingerprint
(a SHA-256 over the caller's credential hash, method, path and body) is kept, never the request.
"""

from __future__ import annotations

from pathlib import Path

from clusterlabel.interfaces.settings import Settings
from clusterlabel.interfaces.web.side_tables import PostgresSideTable, SQLiteSideFile

KEYS_FILE = "idempotency_keys.sqlite"
KEYS_TABLE = "clusterlabel_idempotency_keys"
SQLITE_TABLE = "idempotency_keys"
# Both dialects read these (SQLite keeps the timestamp as text).
COLUMNS = (
    "idempotency_key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, succeeded BOOLEAN NOT NULL DEFAULT FALSE, "
    "first_used_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP"
)

# One statement each, the same in both dialects. Claiming never overwrites: the no-op update only makes
# RETURNING give the fingerprint already there. Success marks the key kept, re-claiming it if a failed
# twin released it meanwhile; a release drops only a claim that never succeeded.
CLAIM = (
    "INSERT INTO {} AS kept (idempotency_key, fingerprint) VALUES ({p}, {p}) "
    "ON CONFLICT (idempotency_key) DO UPDATE SET fingerprint = kept.fingerprint RETURNING fingerprint"
)
SUCCEEDED = (
    "INSERT INTO {} AS kept (idempotency_key, fingerprint, succeeded) VALUES ({p}, {p}, TRUE) "
    "ON CONFLICT (idempotency_key) DO UPDATE SET succeeded = TRUE WHERE kept.fingerprint = excluded.fingerprint"
)
RELEASE = "DELETE FROM {} WHERE idempotency_key = {p} AND fingerprint = {p} AND NOT succeeded"


def open_idempotency_keys(settings: Settings) -> IdempotencyKeys:
    """Which request each Idempotency-Key stands for, beside the event store like the tokens."""
    if settings.store() == "postgres":
        return IdempotencyKeys(PostgresSideTable(settings.eventsourcing_env(), KEYS_TABLE, COLUMNS))
    return sqlite_idempotency_keys(settings.ensure_data_dir() / KEYS_FILE)


def sqlite_idempotency_keys(path: Path) -> IdempotencyKeys:
    return IdempotencyKeys(SQLiteSideFile(path, SQLITE_TABLE, COLUMNS))


class IdempotencyKeys:
    """Which request each key stands for; every method is one atomic statement, safe across processes."""

    def __init__(self, table: SQLiteSideFile | PostgresSideTable) -> None:
        self._table = table
        self.location = table.location  # where the keys are kept, in words for an operator

    def close(self) -> None:
        self._table.close()

    def claim(self, key: str, fingerprint: str) -> bool:
        """Hold `key` for this request: True when it is free or already stands for the same request."""
        row = self._table.one(CLAIM, (key, fingerprint))
        return row is not None and row[0] == fingerprint

    def succeeded(self, key: str, fingerprint: str) -> None:
        """The request under `key` was carried out: the key stands for it from now on."""
        self._table.one(SUCCEEDED, (key, fingerprint))

    def release(self, key: str, fingerprint: str) -> None:
        """The request under `key` was refused (nothing recorded): free the key, unless it ever succeeded."""
        self._table.one(RELEASE, (key, fingerprint))
