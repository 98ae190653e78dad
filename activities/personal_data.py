"""Personal text inside events, sealed under a key per person that an erasure destroys (crypto-shredding).

An expert's name is part of their registration (Expert.Registered's `profile`): the domain reads it in
every refusal that names the expert, and compares it to tell a repeated registration from another
expert. So the name stays in the event as the domain sees it, and the mapper, at the store's boundary,
seals it on the way in and unseals it on the way out: the stored JSON holds `{"sealed": "<base64>"}`
(AES-GCM under the expert's own key, bound to the expert's id), and the key lives beside the events,
in a table of the same database (`personal_keys`; `clusterlabel_personal_keys` with PostgreSQL).

Erasing the person deletes the key and marks the person erased: from then on the sealed bytes cannot
be read from the live database (no copy of the key is left in it: see _scrub_sqlite and
_scrub_postgres; a backup taken before still holds it), and the mapper reads ERASED where the name stood. No stored event is rewritten, so
the log's chain still verifies. An expert registered before names were sealed has the name in plain
text in the log: after an erasure it reads ERASED too, but those bytes remain in the store.
"""

from __future__ import annotations

import base64
import secrets
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import resolve_topic

from clusterlabel.domain.expert import Expert

ERASED = "erased person"
SEALED = "sealed"  # the stored form of a sealed text: {"sealed": base64(nonce + ciphertext)}
NONCE_BYTES = 12
KEY_BYTES = 32
# Where each event type keeps personal text: the field, and the key inside it.
PERSONAL_FIELDS: dict[type[Any], tuple[str, str]] = {
    Expert.Registered: ("profile", "name"),  # type: ignore[attr-defined]  # made by @event("Registered")
}
KEYS_TABLE = "personal_keys"
COLUMNS = "subject_id TEXT PRIMARY KEY, secret TEXT, erased_at TEXT"


class PersonalKeys(Protocol):
    """The key of each person whose text the events seal, until their erasure."""

    def key_to_seal(self, subject: UUID) -> bytes | None:
        """The subject's key, made on first use; None once the subject is erased."""
        ...

    def key_to_open(self, subject: UUID) -> tuple[bytes | None, bool]:
        """The subject's key (None when there is none) and whether the subject was erased."""
        ...

    def erase(self, subject: UUID) -> None:
        """Destroy the subject's key and remember the erasure (of text sealed or stored plainly before)."""
        ...


class MemoryKeys:
    """The keys of an application whose events live in memory (tests, tools)."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes | None] = {}
        self._lock = threading.Lock()

    def key_to_seal(self, subject: UUID) -> bytes | None:
        with self._lock:
            return self._keys.setdefault(subject, secrets.token_bytes(KEY_BYTES))

    def key_to_open(self, subject: UUID) -> tuple[bytes | None, bool]:
        with self._lock:
            return self._keys.get(subject), subject in self._keys and self._keys[subject] is None

    def erase(self, subject: UUID) -> None:
        with self._lock:
            self._keys[subject] = None


class TableKeys:
    """The keys in a table of the event store's own database, reached through its datastore's
    connections (each statement its own transaction). The table is made on first use."""

    def __init__(
        self,
        datastore: Any,
        table: str,
        placeholder: str,
        compose: Callable[[str], Any],
        scrub: Callable[[], None] = lambda: None,
    ) -> None:
        self._datastore = datastore
        self._table = table
        self._p = placeholder
        self._compose = compose  # the statement as the driver takes it (PostgreSQL: the schema quoted)
        self._scrub = scrub  # after an erasure: drop the copies of the key the database still keeps
        self._ready = False

    def _run(self, statement: str, params: tuple[Any, ...] = (), *, zero_freed: bool = False) -> Any:
        """One statement in a transaction of its own; a SELECT's first row. `zero_freed`: SQLite overwrites
        the bytes the statement frees (a destroyed key must not linger in the page's free space)."""
        self._create()
        reading = statement.startswith("SELECT")
        with self._datastore.transaction(commit=not reading) as cursor:
            if zero_freed and self._p == "?":
                cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute(self._compose(statement.replace("{p}", self._p)), params)
            return cursor.fetchone() if reading else None

    def _create(self) -> None:
        if self._ready:
            return
        with self._datastore.transaction(commit=True) as cursor:
            if self._p == "%s":  # PostgreSQL: processes starting together would race on IF NOT EXISTS
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._table,))
            cursor.execute(self._compose("CREATE TABLE IF NOT EXISTS {} (" + COLUMNS + ")"))
        self._ready = True

    def key_to_seal(self, subject: UUID) -> bytes | None:
        fresh = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")
        insert = "INSERT INTO {} (subject_id, secret) VALUES ({p}, {p}) ON CONFLICT (subject_id) DO NOTHING"
        self._run(insert, (str(subject), fresh))
        return self.key_to_open(subject)[0]

    def key_to_open(self, subject: UUID) -> tuple[bytes | None, bool]:
        row = self._run("SELECT secret, erased_at FROM {} WHERE subject_id = {p}", (str(subject),))
        if row is None:
            return None, False
        secret, erased_at = row["secret"], row["erased_at"]
        return (None if secret is None else base64.b64decode(secret)), erased_at is not None

    def erase(self, subject: UUID) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        upsert = (
            "INSERT INTO {} AS kept (subject_id, secret, erased_at) VALUES ({p}, NULL, {p}) "
            "ON CONFLICT (subject_id) DO UPDATE SET secret = NULL, erased_at = COALESCE(kept.erased_at, excluded.erased_at)"
        )
        self._run(upsert, (str(subject), now), zero_freed=True)
        self._scrub()


def keys_beside(recorder: Any) -> PersonalKeys:
    """The keys beside the recorder's events: a table in the same database, or memory for an
    application whose events live in memory too."""
    from eventsourcing.postgres import PostgresDatastore
    from eventsourcing.sqlite import SQLiteDatastore

    datastore = getattr(recorder, "datastore", None)
    if isinstance(datastore, SQLiteDatastore):
        compose = lambda statement: statement.format(KEYS_TABLE)  # noqa: E731
        return TableKeys(datastore, KEYS_TABLE, "?", compose, scrub=partial(_scrub_sqlite, datastore.pool))
    if isinstance(datastore, PostgresDatastore):
        from psycopg.sql import SQL, Identifier

        table = Identifier(datastore.schema, f"clusterlabel_{KEYS_TABLE}")
        return TableKeys(
            datastore,
            f"{datastore.schema}.clusterlabel_{KEYS_TABLE}",
            "%s",
            lambda statement: SQL(statement).format(table),
            scrub=partial(_scrub_postgres, datastore.pool, table),
        )
    if datastore is not None:  # a store whose keys would not outlive the process: names would read as erased
        raise TypeError(f"no table for personal keys beside a {type(datastore).__name__}")
    return MemoryKeys()


def _scrub_sqlite(pool: Any) -> None:
    """Fold the write-ahead log (which holds the key's page as it was) back into the file and truncate it;
    the erasure itself ran with secure_delete on, which zeroes the freed bytes of the page. Backups taken
    before keep the key."""
    if pool.is_sqlite_memory_mode:
        return
    with closing(sqlite3.connect(pool.db_name, timeout=30)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _scrub_postgres(pool: Any, table: Any) -> None:
    """Rewrite the key table without its dead row versions (VACUUM FULL, outside any transaction). The
    server's write-ahead log segments and backups taken before keep the key until they are recycled."""
    from psycopg import connect
    from psycopg.sql import SQL

    with connect(autocommit=True, **{k: v for k, v in pool.kwargs.items() if k != "row_factory"}) as connection:
        connection.execute(SQL("VACUUM FULL {}").format(table))


class PersonalMapper(Mapper[UUID]):
    """eventsourcing's mapper, sealing and unsealing the personal text of the events that carry some."""

    def __init__(self, base: Mapper[UUID], keys: PersonalKeys | None = None) -> None:
        super().__init__(base.transcoder, base.compressor, base.cipher)
        self.keys: PersonalKeys = keys or MemoryKeys()  # the application gives it the keys beside its events

    def carries_personal_text(self, topic: str) -> bool:
        """Whether an event stored under `topic` is read only through this mapper (the read side's
        shortcut through the stored JSON would see the sealed text, or an erased person's name)."""
        return _personal_topic(topic)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        place = PERSONAL_FIELDS.get(type(domain_event))
        if place is None:
            return super().to_stored_event(domain_event)
        key = self.keys.key_to_seal(domain_event.originator_id)
        sealed = object.__new__(type(domain_event))
        state = _replaced(vars(domain_event), place, lambda text: _seal(key, domain_event.originator_id, text))
        object.__setattr__(sealed, "__dict__", state)
        return super().to_stored_event(sealed)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        domain_event = super().to_domain_event(stored_event)
        place = PERSONAL_FIELDS.get(type(domain_event))
        if place is None:
            return domain_event
        key, erased = self.keys.key_to_open(domain_event.originator_id)
        state = _replaced(vars(domain_event), place, lambda text: _open(key, erased, domain_event.originator_id, text))
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event


@lru_cache(maxsize=256)
def _personal_topic(topic: str) -> bool:
    return resolve_topic(topic) in PERSONAL_FIELDS  # an old module prefix resolves to today's class


def _replaced(state: dict[str, Any], place: tuple[str, str], change: Callable[[Any], Any]) -> dict[str, Any]:
    field, key = place
    inner = dict(state[field])
    inner[key] = change(inner[key])
    return {**state, field: inner}


def _seal(key: bytes | None, subject: UUID, text: str) -> Any:
    if key is None:  # the subject was erased before this event was written: nothing of theirs to keep
        return ERASED
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, text.encode("utf-8"), subject.bytes)
    return {SEALED: base64.b64encode(nonce + sealed).decode("ascii")}


def _open(key: bytes | None, erased: bool, subject: UUID, stored: Any) -> str:
    """The text as the domain reads it: unsealed with the subject's key, ERASED once that is gone
    (and for plain text stored before sealing, once the subject is erased)."""
    if not isinstance(stored, dict):
        return ERASED if erased else str(stored)
    if key is None:
        return ERASED
    blob = base64.b64decode(stored[SEALED])
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], subject.bytes).decode("utf-8")
    except InvalidTag:  # sealed under a key of another store (a copied event): unreadable here
        return ERASED
