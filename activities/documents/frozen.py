"""Frozen documents: a PDF kept under its SHA-256, written once and never overwritten.

A small local store for the benchmarking report frozen at the decision (<data dir>/documents/); the
log records the digest (CertificationCase.ReportFrozen), so a copy anyone holds can be checked against it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from uuid import uuid4


def digest(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def keep(directory: Path, pdf: bytes) -> str:
    """Store the bytes under their digest, unless a file of that name is there already; the digest."""
    sha256 = digest(pdf)
    path = directory / f"{sha256}.pdf"
    if path.exists():
        return sha256
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{sha256}.{uuid4().hex}.part"
    partial.write_bytes(pdf)
    try:
        os.link(partial, path)  # never replaces a file that is there: two writers, one file
    except FileExistsError:
        pass
    finally:
        partial.unlink()
    return sha256


def kept(directory: Path, sha256: str) -> bytes | None:
    """The bytes stored under this digest; None when there are none, or they no longer match it."""
    path = directory / f"{sha256}.pdf"
    if not path.is_file():
        return None
    pdf = path.read_bytes()
    return pdf if digest(pdf) == sha256 else None
