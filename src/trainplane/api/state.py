"""``<home>/server.json``: where the running server listens, for ``trainplane env`` and scripts."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_PORT = 8750


@dataclass(frozen=True)
class ServerState:
    host: str
    port: int
    s3_endpoint_url: str | None
    auth: str  # "sigv4" or "none"
    pid: int
    s3_kms_key_id: str | None = None  # set when the S3 endpoint needs a key id for SSE-KMS uploads

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def state_path(home: Path) -> Path:
    return home / "server.json"


def write_state(home: Path, state: ServerState) -> None:
    path = state_path(home)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2) + "\n")
    os.replace(temporary, path)  # readers never see half a file


def read_state(home: Path) -> ServerState | None:
    try:
        raw = json.loads(state_path(home).read_text())
        return ServerState(
            host=str(raw["host"]),
            port=int(raw["port"]),
            s3_endpoint_url=raw.get("s3_endpoint_url"),
            auth=str(raw.get("auth", "sigv4")),
            pid=int(raw.get("pid", 0)),
            s3_kms_key_id=raw.get("s3_kms_key_id"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_state(home: Path, pid: int) -> None:
    """Remove the file if it is still ours (a newer server may have replaced it)."""
    current = read_state(home)
    if current is not None and current.pid == pid:
        state_path(home).unlink(missing_ok=True)
