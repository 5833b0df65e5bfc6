"""What the client tests share: the running server and the SDK programs started against it."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

PROGRAM_TIMEOUT = 240.0


@dataclass
class Server:
    url: str
    home: Path
    env: dict[str, str]  # what `trainplane env` exported
    bucket: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def train_uri(self) -> str:
        return f"s3://{self.bucket}/data/train/"

    def client(self, service: str, **overrides: str) -> object:
        env = self.env
        return boto3.client(
            service,
            region_name=env["AWS_DEFAULT_REGION"],
            endpoint_url=env["AWS_ENDPOINT_URL_S3" if service == "s3" else "AWS_ENDPOINT_URL_SAGEMAKER"],
            aws_access_key_id=overrides.get("key", env["AWS_ACCESS_KEY_ID"]),
            aws_secret_access_key=overrides.get("secret", env["AWS_SECRET_ACCESS_KEY"]),
        )


@dataclass
class Program:
    name: str
    process: subprocess.Popen[bytes]
    output: Path
    result: dict[str, Any] | None = field(default=None)

    def finish(self) -> tuple[dict[str, Any], str]:
        """(the JSON line the program printed last, everything it printed)."""
        try:
            self.process.wait(timeout=PROGRAM_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        text = self.output.read_text(errors="replace")
        assert self.process.returncode == 0, f"{self.name} exited {self.process.returncode}:\n{text[-4000:]}"
        return json.loads(text.strip().splitlines()[-1]), text
