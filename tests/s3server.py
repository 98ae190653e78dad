"""A real S3-compatible server for tests: moto's server mode, over HTTP on a free port, in this process.

The code under test talks to it with the real boto3 client, as it would to any object store; nothing
of boto3 is patched (moto's in-process mock decorators are not used).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

ACCESS_KEY_ID = "evidence-tests"
SECRET_ACCESS_KEY = "evidence-tests-secret"
REGION = "eu-central-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def new_bucket(self, name: str) -> str:
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=REGION,
        )
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name


@contextmanager
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
