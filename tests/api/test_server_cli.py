"""`trainplane server` refusals and `trainplane env` output (no server process needed)."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from trainplane.api.state import ServerState, read_state, write_state
from trainplane.cli import server as server_cli
from trainplane.cli.main import main


def test_auth_none_is_refused_on_a_non_loopback_bind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(tmp_path), "server", "--host", "0.0.0.0", "--auth", "none"]) == 2
    assert "loopback" in capsys.readouterr().err
    assert not (tmp_path / "server.json").exists()


def _exports(text: str) -> dict[str, str]:
    lines = [line.removeprefix("export ") for line in text.splitlines() if line.startswith("export ")]
    return {name: shlex.split(value)[0] for name, _, value in (line.partition("=") for line in lines)}


def test_env_points_every_client_service_at_the_running_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAINPLANE_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("TRAINPLANE_SECRET_ACCESS_KEY", raising=False)
    state = ServerState("0.0.0.0", 9999, "http://127.0.0.1:9333", "sigv4", os.getpid(), "trainplane")
    write_state(tmp_path, state)
    assert main(["--home", str(tmp_path), "env"]) == 0
    exports = _exports(capsys.readouterr().out)
    for service in ("SAGEMAKER", "CLOUDWATCH_LOGS", "LOGS", "CLOUDWATCH", "STS", "IAM"):
        assert exports[f"AWS_ENDPOINT_URL_{service}"] == "http://127.0.0.1:9999"  # wildcard -> loopback
    assert exports["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:9333"
    assert exports["AWS_ACCESS_KEY_ID"] in (tmp_path / "credentials").read_text()
    config = yaml.safe_load(Path(exports["SAGEMAKER_USER_CONFIG_OVERRIDE"]).read_text())["SageMaker"]
    assert config["PythonSDK"]["Modules"]["Session"]["DefaultS3Bucket"] == "sagemaker-us-east-1-123456789012"
    assert config["PythonSDK"]["Modules"]["TelemetryOptOut"] is True
    assert config["TrainingJob"]["RoleArn"].startswith("arn:aws:iam::123456789012:role/")
    assert config["TrainingJob"]["OutputDataConfig"]["KmsKeyId"] == "trainplane"


def test_env_without_a_running_server_warns_and_uses_the_default_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(tmp_path), "env"]) == 0
    captured = capsys.readouterr()
    assert "no server is running" in captured.err
    assert _exports(captured.out)["AWS_ENDPOINT_URL_SAGEMAKER"] == "http://127.0.0.1:8750"
    assert "AWS_ENDPOINT_URL_S3" not in _exports(captured.out)


def test_a_second_server_on_a_home_in_use_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A process whose command line reads like a server's stands in for the first server.
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "trainplane", "server"])
    # The port this server would use is taken: were it not refused, it would fail fast, not serve.
    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        cmdline = Path(f"/proc/{stand_in.pid}/cmdline")
        while b"server" not in cmdline.read_bytes().split(b"\0"):
            time.sleep(0.01)
        write_state(tmp_path, ServerState("127.0.0.1", 18999, None, "sigv4", stand_in.pid))
        assert main(["--home", str(tmp_path), "server", "--port", str(port)]) == 1
        assert (
            f"a server (pid {stand_in.pid}, http://127.0.0.1:18999) already serves home"
            in capsys.readouterr().err
        )
        assert read_state(tmp_path) == ServerState("127.0.0.1", 18999, None, "sigv4", stand_in.pid)
    finally:
        taken.close()
        stand_in.kill()
        stand_in.wait()


def test_a_state_file_naming_a_process_that_is_not_a_server_does_not_refuse() -> None:
    other = subprocess.Popen(["sleep", "60"])
    try:
        assert server_cli._is_server(other.pid) is False
    finally:
        other.kill()
        other.wait()
    assert server_cli._is_server(other.pid) is False  # gone


def test_s3_port_needs_s3_local(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(tmp_path), "server", "--s3-port", "18997"]) == 2
    assert "--s3-port needs --s3 local" in capsys.readouterr().err


def test_a_taken_port_fails_the_server_before_it_claims_the_home(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["--home", str(tmp_path), "server", "--port", str(port)]) == 1
    err = capsys.readouterr()
    assert f"cannot listen on 127.0.0.1:{port}" in err.err
    assert "trainplane API on" not in err.out  # no banner for a server that never listened
    assert not (tmp_path / "server.json").exists()


def test_env_wait_picks_up_a_server_that_is_still_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The state appears a second after `env --wait` starts, as a server started with '&' writes it.
    state = ServerState("127.0.0.1", 18996, "http://127.0.0.1:18995", "sigv4", os.getpid())
    timer = threading.Timer(1.0, write_state, args=(tmp_path, state))
    timer.start()
    try:
        assert main(["--home", str(tmp_path), "env", "--wait", "30"]) == 0
    finally:
        timer.join()
    captured = capsys.readouterr()
    assert "no server is running" not in captured.err
    assert _exports(captured.out)["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:18995"
