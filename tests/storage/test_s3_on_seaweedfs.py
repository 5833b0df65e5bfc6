"""The boto3 backend against SeaweedFS, the server `trainplane server --s3 local` runs: SeaweedFS
creates a bucket on its first write, and trainplane must not let a job's output create one."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainplane.api.credentials import KeyPair
from trainplane.api.seaweedfs import SeaweedS3
from trainplane.storage import ObjectNotFound, S3Store

pytestmark = pytest.mark.slow

KEYS = KeyPair("AKIDTESTSEAWEED00003", "secret-three")


def test_a_write_to_a_missing_bucket_fails_as_on_aws_and_creates_no_bucket(tmp_path: Path) -> None:
    seaweed = SeaweedS3(tmp_path / "seaweedfs", KEYS)
    endpoint = seaweed.start()
    try:
        env = {"AWS_ACCESS_KEY_ID": KEYS.access_key_id, "AWS_SECRET_ACCESS_KEY": KEYS.secret_access_key}
        store = S3Store(endpoint, env)
        source = tmp_path / "model.tar.gz"
        source.write_bytes(b"model")
        with pytest.raises(ObjectNotFound, match=r"No such bucket: s3://never-made/out/model\.tar\.gz"):
            store.upload_file(source, "s3://never-made/out/model.tar.gz")
        with pytest.raises(ObjectNotFound, match="never-made"):
            store.write_bytes(b"x", "s3://never-made/key")
        buckets = store.client.list_buckets()["Buckets"]
        assert [b["Name"] for b in buckets] == []
        store.ensure_bucket("made")
        assert store.upload_file(source, "s3://made/model.tar.gz").size == 5
    finally:
        seaweed.stop()
