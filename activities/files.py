"""Where evidence documents are kept: by the SHA-256 of their content, written once, never overwritten.

Two stores behind one protocol (FileStore): a folder under the data directory (the default), and an
S3-compatible object store when one is configured. Either way a file's name is its hash, so the same
bytes attached to many cases are stored once, and a name always reads back the bytes it was made from.
The names people gave their files are events' metadata (domain/evidence_commands.py), never a path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from clusterlabel.domain.evidence_commands import SHA256_HEX


class FileMissing(LookupError):
    """No stored file has that hash."""


class FileStore(Protocol):
    """Content-addressed, write-once storage of files."""

    def put(self, content: bytes) -> str:
        """Store the content unless it is there already; its SHA-256 (hex), the name it is kept under."""
        ...

    def get(self, sha256: str) -> bytes:
        """The stored content; FileMissing if nothing is stored under the hash."""
        ...

    def where(self) -> str:
        """Where the files are, for the logs (never with a secret)."""
        ...


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _checked(sha256: str) -> str:
    """A hash as a store's key: 64 lowercase hex digits, so that it can never name a path or another key."""
    if len(sha256) != 64 or not set(sha256) <= set("0123456789abcdef"):
        raise FileMissing(f"no stored file {sha256!r}: not a SHA-256 ({SHA256_HEX})")
    return sha256


class LocalFileStore:
    """Files under `<root>/ab/cd/<sha256>`: two levels of folders, so that none holds too many files."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        sha256 = _checked(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, content: bytes) -> str:
        sha256 = sha256_of(content)
        target = self.path_of(sha256)
        if target.exists():
            return sha256  # the same bytes are there: nothing is written
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a temporary file beside it, flushed to disk, then linked under its name: a
        # reader never sees half a file, and os.link refuses to replace a file that a racing writer
        # linked first (rename would overwrite it; the bytes are the same, but the rule is never).
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as incoming:
                incoming.write(content)
                incoming.flush()
                os.fsync(incoming.fileno())
            os.chmod(temporary, 0o440)
            try:
                os.link(temporary, target)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
        return sha256

    def get(self, sha256: str) -> bytes:
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            raise FileMissing(f"no stored file {sha256}") from None

    def where(self) -> str:
        return str(self.root)


class S3FileStore:
    """Objects in one bucket of an S3-compatible store, keyed by their hash.

    A write is conditional (`If-None-Match: *`): the store itself refuses to replace an object, so two
    processes storing the same file race harmlessly. A store that does not implement the condition
    answers 501; the object is then looked for first and written only when missing.
    """

    def __init__(self, client: Any, bucket: str, endpoint: str) -> None:
        self.client = client
        self.bucket = bucket
        self.endpoint = endpoint

    @classmethod
    def connect(
        cls, endpoint: str, bucket: str, access_key_id: str | None, secret_access_key: str | None, region: str
    ) -> S3FileStore:
        # Imported here: boto3 takes a fifth of a second to import, which every process that never uses an
        # S3 store (workers, CLI commands, SQLite set-ups) would otherwise pay at start.
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"}),
        )
        return cls(client, bucket, endpoint)

    def put(self, content: bytes) -> str:
        sha256 = sha256_of(content)
        try:
            self.client.put_object(Bucket=self.bucket, Key=sha256, Body=content, IfNoneMatch="*")
        except self.client.exceptions.ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (409, 412):  # already there (409: a concurrent conditional write)
                return sha256
            if status != 501:
                raise
            if not self._exists(sha256):
                self.client.put_object(Bucket=self.bucket, Key=sha256, Body=content)
        return sha256

    def get(self, sha256: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=_checked(sha256))
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileMissing(f"no stored file {sha256}") from None
            raise
        return bytes(answer["Body"].read())

    def _exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=sha256)
        except self.client.exceptions.ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise
        return True

    def where(self) -> str:
        return f"{self.endpoint}/{self.bucket}"
