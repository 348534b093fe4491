"""moto's S3 in server mode on 127.0.0.1, for the Distributed Map tests that read and write
S3 over HTTP as they would with AWS (one server per test module, a clean one per test)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from runtime.adapters import Services
from runtime.adapters.aws import AwsSettings

#: The moto server's URL while a module's tests run (:func:`moto_server`).
ENDPOINT: list[str] = []


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's S3 in server mode, on 127.0.0.1."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    ENDPOINT[:] = [f"http://{host}:{port}"]
    yield ENDPOINT[0]
    ENDPOINT.clear()
    server.stop()


def fresh_bucket(server: str, monkeypatch: pytest.MonkeyPatch, bucket: str) -> Any:
    """A boto3 S3 client of a server emptied for this test, with ``bucket`` made."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    urllib.request.urlopen(
        urllib.request.Request(f"{server}/moto-api/reset", method="POST")
    ).close()
    client = boto3.client("s3", region_name="us-east-1", endpoint_url=server)
    client.create_bucket(Bucket=bucket)
    return client


def aws() -> Services:
    """Services that call AWS, every endpoint the moto server's."""
    endpoints = {"*": ENDPOINT[0]} if ENDPOINT else {}
    return Services.create(aws=True, settings=AwsSettings(region="us-east-1", endpoints=endpoints))
