"""The hashes of the tamper-evidence chain (projections/event_chain.py) and the key its links need.

An event's hash is plain SHA-256 of its stored form: anyone may recompute it. A link of the chain
(an aggregate's head, the log's head) is HMAC-SHA256 under a key kept outside the database: whoever
can rewrite events and the chain's rows still cannot make links that check out without the key.

Each link records its scheme: `hmac-sha256:<key id>` (the key id names the key without revealing
it) or, for links made before the chain had a key, `sha256`. Verification reports the latter as
unkeyed until `projections rebuild` re-keys them, after checking them against the events.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

UNKEYED = "sha256"  # links made before the chain had a key: SHA-256 over (previous + event hash)
KEYED = "hmac-sha256"
KEY_FILE = "chain.key"  # the development key, generated once beside the SQLite store (never in it)
KEY_ENV = "CHAIN_KEY"  # an env key open_read_models reads it from (CLUSTERLABEL_CHAIN_KEY too)


class MissingChainKey(ValueError):
    """The chain view was asked for without a key to make its links with."""


def event_hash(notification: Notification, aggregate_key: str | None = None) -> str:
    """The hash of an event's stored form; `aggregate_key` is its aggregate id as text, when known."""
    key = aggregate_key or str(UUID(str(notification.originator_id)))
    return stored_hash(key, notification.originator_version, notification.topic, notification.state)


def stored_hash(aggregate_key: str, version: int, topic: str, state: bytes) -> str:
    """event_hash() of the stored event these are the columns of (its aggregate id as canonical text)."""
    hashed = hashlib.sha256(f"{aggregate_key}|{version}|{topic}|".encode())
    hashed.update(state)  # the state as it is (bytes or a view of them), not copied onto the head first
    return hashed.hexdigest()


def chained(previous: str, link: str) -> str:
    """An unkeyed link, as the chain made them before it had a key (kept to check those)."""
    return hashlib.sha256((previous + link).encode()).hexdigest()


class ChainKey:
    """The secret the chain's links are made with; its repr never shows it."""

    __slots__ = ("_inner", "_outer", "_secret", "key_id")

    def __init__(self, secret: str) -> None:
        if not secret.strip():
            raise MissingChainKey("the chain key is empty")
        self._secret = secret.strip().encode("utf-8")
        # Names the key in each link (to tell "made with another key" from "altered") without revealing it.
        self.key_id = hmac.new(self._secret, b"clusterlabel chain key id", hashlib.sha256).hexdigest()[:16]
        self._inner, self._outer = _hmac_states(self._secret)

    def __repr__(self) -> str:
        return f"ChainKey(key_id={self.key_id!r})"

    @classmethod
    def random(cls) -> ChainKey:
        return cls(new_secret())

    @property
    def secret(self) -> str:
        return self._secret.decode("utf-8")

    @property
    def scheme(self) -> str:
        return f"{KEYED}:{self.key_id}"

    def link(self, previous: str, digest: str) -> str:
        """HMAC-SHA256 of previous + digest under the key (RFC 2104), from the key's two states hashed once.

        Why not hmac.digest: it hashes the padded key again for every link, twice per event; copying the
        states takes a third of its time. The links are hmac.digest's, bit for bit."""
        inner = self._inner.copy()
        inner.update((previous + digest).encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def relink(self, scheme: str, previous: str, digest: str) -> str | None:
        """The link a row of this scheme should hold; None when it was made with another key."""
        if scheme == UNKEYED:
            return chained(previous, digest)
        if scheme == self.scheme:
            return self.link(previous, digest)
        return None


_BLOCK = hashlib.sha256().block_size
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


def _hmac_states(secret: bytes) -> tuple[Any, Any]:
    """SHA-256 after the inner and after the outer padded key: where every HMAC-SHA256 under `secret` starts."""
    if len(secret) > _BLOCK:
        secret = hashlib.sha256(secret).digest()
    padded = secret.ljust(_BLOCK, b"\0")
    return hashlib.sha256(padded.translate(_INNER_PAD)), hashlib.sha256(padded.translate(_OUTER_PAD))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def key_file(path: Path) -> ChainKey:
    """The key kept in `path`, generated there on first use (mode 0600). Processes starting together
    agree on one: the file appears whole, by a link that fails when another process made it first."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(new_secret() + "\n", encoding="utf-8")
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return ChainKey(path.read_text(encoding="utf-8"))
