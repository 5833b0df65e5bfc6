"""`--s3 local` across server restarts: SeaweedFS outlives a killed server (it is data plane), the next
server adopts it on the same port, and a process it cannot adopt is killed before a fresh one starts."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from trainplane.api.credentials import KeyPair
from trainplane.api.seaweedfs import SeaweedS3
from trainplane.liveness import pid_alive

pytestmark = pytest.mark.slow

KEYS = KeyPair("AKIDTESTSEAWEED00001", "secret-one")


def _client(endpoint: str, keys: KeyPair) -> object:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        region_name="us-east-1",
    )


def _keys_in_bucket(endpoint: str, keys: KeyPair) -> list[str]:
    listing = _client(endpoint, keys).list_objects_v2(Bucket="kept")  # type: ignore[attr-defined]
    return [item["Key"] for item in listing.get("Contents", [])]


def test_a_killed_servers_seaweedfs_is_adopted_then_replaced_when_its_keys_changed(tmp_path: Path) -> None:
    first = SeaweedS3(tmp_path / "seaweedfs", KEYS)
    other = KeyPair("AKIDTESTSEAWEED00002", "secret-two")
    replacing = SeaweedS3(tmp_path / "seaweedfs", other)
    endpoint = first.start()
    assert first.process is not None
    pid = first.process.pid
    try:
        s3 = _client(endpoint, KEYS)
        s3.create_bucket(Bucket="kept")  # type: ignore[attr-defined]
        s3.put_object(Bucket="kept", Key="a.txt", Body=b"a")  # type: ignore[attr-defined]
        # The server that started it is gone without stopping it (SIGKILL): the next one adopts it.
        adopting = SeaweedS3(tmp_path / "seaweedfs", KEYS)
        assert adopting.start() == endpoint
        assert adopting.process is None and pid_alive(pid)
        # Other keys: that process would refuse them, so it is killed and a new one takes its port.
        assert replacing.start() == endpoint
        first.process.wait(timeout=5)  # reaped: the leftover was killed
        assert replacing.process is not None and replacing.process.pid != pid
        assert _keys_in_bucket(endpoint, other) == ["a.txt"]  # the data survived the replacement
        process = replacing.process
        replacing.stop()
        assert process.poll() is not None  # a graceful stop ends it
        assert not (tmp_path / "seaweedfs" / "weed.json").exists()
    finally:
        replacing.stop()
        first.stop()
