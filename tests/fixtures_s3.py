"""An S3 endpoint for tests: moto's server on a free loopback port, one per test session."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

_START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except (OSError, urllib.error.URLError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto S3 server started for this session and stopped (by PID) afterwards."""
    moto = Path(sys.executable).parent / "moto_server"
    if not moto.exists():
        raise RuntimeError(f"moto_server is not installed next to {sys.executable}: run scripts/test.sh")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto_server did not start on {url}: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def _s3_admin_client(s3_endpoint: str) -> Any:
    # One client per session: building a boto3 client costs a good fraction of a second.
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def s3_bucket(_s3_admin_client: Any) -> str:
    """A fresh, uniquely named bucket on the session's S3 endpoint."""
    name = f"test-{uuid.uuid4().hex[:20]}"
    _s3_admin_client.create_bucket(Bucket=name)
    return name
