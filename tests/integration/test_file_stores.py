"""Evidence files are stored once by their SHA-256 and never overwritten: on the local disk, and in an
S3-compatible object store (moto's real server over HTTP, talked to with the real boto3 client)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterlabel.activities.files import FileMissing, FileStore, LocalFileStore, S3FileStore
from clusterlabel.interfaces.bootstrap import open_file_store
from clusterlabel.interfaces.settings import Settings
from tests import evidence_files
from tests.s3server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server, s3_server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


def s3_settings(tmp_path: Path, s3: S3Server, bucket: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        files_s3_endpoint=s3.endpoint,
        files_s3_bucket=bucket,
        files_s3_region=REGION,
        files_s3_access_key_id=ACCESS_KEY_ID,
        files_s3_secret_access_key=SECRET_ACCESS_KEY,
    )


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    """The store each setting gives, built as the engine builds it (bootstrap.open_file_store)."""
    if request.param == "local":
        return open_file_store(Settings(data_dir=tmp_path))
    s3: S3Server = request.getfixturevalue("s3")
    return open_file_store(s3_settings(tmp_path, s3, s3.new_bucket(f"evidence-{tmp_path.name[-20:].lower()}")))


def test_a_file_reads_back_identical_under_its_sha256(store: FileStore) -> None:
    content = evidence_files.pdf()
    sha256 = store.put(content)
    assert sha256 == hashlib.sha256(content).hexdigest()
    assert store.get(sha256) == content


def test_the_same_bytes_stored_twice_are_one_file_and_another_file_is_another(store: FileStore) -> None:
    first, second = evidence_files.png("teal"), evidence_files.png("maroon")
    assert store.put(first) == store.put(first)
    assert store.put(second) != store.put(first)
    assert (store.get(hashlib.sha256(first).hexdigest()), store.get(hashlib.sha256(second).hexdigest())) == (
        first,
        second,
    )


@pytest.mark.parametrize("name", ["0" * 64, "../../chain.key", "A" * 64, ""])
def test_an_unknown_or_malformed_hash_reads_nothing(store: FileStore, name: str) -> None:
    with pytest.raises(FileMissing):
        store.get(name)


def test_the_local_store_writes_a_file_once_and_never_over_it(tmp_path: Path) -> None:
    store = LocalFileStore(Settings(data_dir=tmp_path).files_dir())
    content = evidence_files.docx()
    sha256 = store.put(content)
    path = store.path_of(sha256)
    assert path == tmp_path.resolve() / "files" / sha256[:2] / sha256[2:4] / sha256
    written = path.stat()
    store.put(content)
    assert path.stat().st_mtime_ns == written.st_mtime_ns and path.stat().st_ino == written.st_ino
    assert [p.name for p in path.parent.iterdir()] == [sha256]  # no temporary file left behind


def test_the_object_store_refuses_to_overwrite_an_object(tmp_path: Path, s3: S3Server) -> None:
    """The write is conditional: even a different body under an existing key does not replace it."""
    store = open_file_store(s3_settings(tmp_path, s3, s3.new_bucket("evidence-write-once")))
    assert isinstance(store, S3FileStore)
    content = evidence_files.xlsx()
    sha256 = store.put(content)
    store.client.put_object(Bucket=store.bucket, Key="taken", Body=b"first", IfNoneMatch="*")
    with pytest.raises(store.client.exceptions.ClientError):
        store.client.put_object(Bucket=store.bucket, Key="taken", Body=b"second", IfNoneMatch="*")
    store.put(content)
    assert store.get(sha256) == content
    assert store.client.get_object(Bucket=store.bucket, Key="taken")["Body"].read() == b"first"
    listed = store.client.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted([sha256, "taken"])
