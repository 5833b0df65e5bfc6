"""What only the boto3 backend does: endpoint and credential resolution, multipart uploads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from trainplane.storage import LocalS3Store, S3Store, StorageError, open_storage
from trainplane.storage.s3 import is_local_endpoint, resolve_endpoint


def test_endpoint_comes_from_argument_then_s3_specific_then_generic_variable() -> None:
    env = {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1", "AWS_ENDPOINT_URL": "http://127.0.0.1:2"}
    assert resolve_endpoint("http://127.0.0.1:0", env) == "http://127.0.0.1:0"
    assert resolve_endpoint(None, env) == "http://127.0.0.1:1"
    assert resolve_endpoint(None, {"AWS_ENDPOINT_URL": "http://127.0.0.1:2"}) == "http://127.0.0.1:2"
    assert resolve_endpoint(None, {}) is None


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:9000", True),
        ("http://localhost:9000", True),
        ("http://[::1]:9000", True),
        ("https://s3.us-east-1.amazonaws.com", False),
        (None, False),
    ],
)
def test_loopback_and_ip_endpoints_are_local(url: str | None, local: bool) -> None:
    assert is_local_endpoint(url) is local


def test_open_storage_routes_s3_to_an_endpoint_from_the_environment(tmp_path: Path) -> None:
    storage = open_storage(tmp_path, environ={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert isinstance(storage.backend("s3://b/k"), S3Store)
    assert isinstance(open_storage(tmp_path, environ={}).backend("s3://b/k"), LocalS3Store)


def test_local_endpoint_uses_path_style_and_fallback_credentials() -> None:
    store = S3Store("http://127.0.0.1:9", {})
    assert store.client.meta.config.s3["addressing_style"] == "path"
    assert store.client._request_signer._credentials.access_key == "trainplane"


def test_unreachable_endpoint_is_a_storage_error_not_a_botocore_one() -> None:
    store = S3Store("http://127.0.0.1:9", {"AWS_MAX_ATTEMPTS": "1"})
    with pytest.raises(StorageError, match=r"s3://bucket/key"):
        store.read_bytes("s3://bucket/key")


def test_multipart_upload_is_verified_against_the_multipart_etag(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    part = 5 * 1024 * 1024  # S3's minimum part size
    store = S3Store(s3_endpoint, {}, part_size=part)
    src = tmp_path / "big.bin"
    src.write_bytes(b"\x01" * (2 * part + 123))
    info = store.upload_file(src, f"s3://{s3_bucket}/big.bin")
    assert info.size == 2 * part + 123
    assert info.etag is not None and info.etag.endswith("-3")
    dest = tmp_path / "back.bin"
    store.download_file(f"s3://{s3_bucket}/big.bin", dest)
    assert hashlib.md5(dest.read_bytes()).digest() == hashlib.md5(src.read_bytes()).digest()
