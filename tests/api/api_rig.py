"""The API test rig: an API server on a loopback port, in this process, over a platform that runs no jobs."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from trainplane.api import build_api
from trainplane.api.credentials import Credentials
from trainplane.platform import Platform, build_platform
from trainplane.settings import load_settings


@dataclass
class LiveApi:
    url: str
    platform: Platform
    credentials: Credentials

    @property
    def key(self) -> str:
        return self.credentials.primary.access_key_id

    @property
    def secret(self) -> str:
        return self.credentials.primary.secret_access_key


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(platform: Platform, credentials: Credentials | None) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        build_api(platform, credentials).app, host="127.0.0.1", port=port, log_level="error", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def make_platform(home: Path) -> Platform:
    return build_platform(load_settings(environ={}, home=home), control=False)
