"""A label's printed code (e.g. ECEI-G-7K3M-9QXD-2F4H) and the id derived from it."""

from __future__ import annotations

import hashlib
from uuid import UUID

from clusterlabel.domain.base import Level, derived_id

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LEVEL_LETTER = {Level.BRONZE: "B", Level.SILVER: "S", Level.GOLD: "G"}


def label_code_for(case_id: UUID, level: Level, replacing: UUID | None = None) -> str:
    """The human-friendly label id printed on a certificate, e.g. ECEI-G-7K3M-9QXD-2F4H.

    Derived from the awarded case, so that issuing twice yields the same label; 60 bits
    keep collisions negligible for millions of labels. `replacing`: the case's own label at this level
    that an upheld appeal sent back and that no longer stands (withdrawn meanwhile, say); the new one needs a
    code of its own.
    """
    seed = case_id.bytes + (replacing.bytes if replacing else b"")
    number = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") >> 4
    chars = "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(55, -1, -5))
    return f"ECEI-{_LEVEL_LETTER[level]}-{chars[0:4]}-{chars[4:8]}-{chars[8:12]}"


def label_id_for(label_code: str) -> UUID:
    return derived_id("label", label_code.strip().upper())
