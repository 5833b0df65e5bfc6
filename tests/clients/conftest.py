"""One ``trainplane server --s3 local`` for the client tests, and the SDK programs run against it.

The server is the real command in a subprocess with a fresh home, its Python's bin directory first on
PATH (jobs run with that Python, like a server started from an activated venv) and oversubscription
so the SDK programs' jobs run side by side. Clients get their environment from ``trainplane env``.
The SDK programs (programs/*.py) run with the SDK venvs' Pythons; the venvs are created by
scripts/sdk-venvs.sh when missing. They start together, because the SDKs spend most of their time
sleeping between polls (v2's log follower describes the job only every 30 s).
"""

from __future__ import annotations

import io
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from client_rig import Program, Server

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).parent / "programs"
SOURCE_DIR = PROGRAMS / "source"
VENVS = {"sdk2": REPO / ".venv-sdk2", "sdk3": REPO / ".venv-sdk3"}
START_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRAINPLANE_", "SAGEMAKER_"))}
    env["TRAINPLANE_HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _exports(text: str) -> dict[str, str]:
    pairs = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            pairs[name] = shlex.split(value)[0]
    return pairs


def _upload_training_data(server: Server) -> None:
    from sklearn.datasets import load_breast_cancer

    features, labels = load_breast_cancer(return_X_y=True)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([labels, features]), delimiter=",", fmt="%.8g")
    s3 = server.client("s3")
    s3.put_object(Bucket=server.bucket, Key="data/train/train.csv", Body=buffer.getvalue().encode())  # type: ignore[attr-defined]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("server-home")
    env = _base_env(home)
    port = _free_port()
    log = home / "server.log"
    command = [sys.executable, "-m", "trainplane.cli.main", "--oversubscription", "8", "server"]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--s3", "local"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (home / "server.json").exists() or not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trainplane server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        printed = subprocess.run(
            [sys.executable, "-m", "trainplane.cli.main", "env"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        exports = _exports(printed.stdout)
        bucket = f"sagemaker-{exports['AWS_DEFAULT_REGION']}-123456789012"
        running = Server(f"http://127.0.0.1:{port}", home, exports, bucket, process, log)
        _upload_training_data(running)
        yield running
    finally:
        _stop(process)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def sdk_pythons() -> dict[str, Path]:
    """Each SDK venv's Python. The script returns at once for a venv that is ready, builds a missing
    one, and waits for one that scripts/test.sh is still building in the background."""
    subprocess.run(["bash", str(REPO / "scripts" / "sdk-venvs.sh"), *VENVS], check=True, timeout=1800)
    return {name: venv / "bin" / "python" for name, venv in VENVS.items()}


@pytest.fixture(scope="session")
def sdk_programs(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Program]]:
    """Every SDK program, started at once against the server; each test waits for its own."""
    pythons = sdk_pythons()
    env = {**_base_env(server.home), **server.env, "SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    source = str(SOURCE_DIR)
    runs = {
        "sdk2_xgboost": ("sdk2", ["v2-xgboost", server.train_uri]),
        "sdk2_sklearn": ("sdk2", ["v2-sklearn", server.train_uri, source]),
        "sdk2_stop": ("sdk2", ["v2-stop", source]),
        "sdk3_builtin": ("sdk3", ["v3-xgboost", server.train_uri]),
        "sdk3_train": ("sdk3", ["v3-source", server.train_uri, source]),
        "sdk2_tuner": ("sdk2", ["v2-tuner", server.train_uri]),
        "sdk3_tuner": ("sdk3", ["v3-tuner", server.train_uri]),
    }
    outputs = tmp_path_factory.mktemp("sdk-output")
    programs = {}
    for name, (venv, args) in runs.items():
        output = outputs / f"{name}.log"
        with output.open("wb") as handle:
            process = subprocess.Popen(
                [str(pythons[venv]), "-u", str(PROGRAMS / f"{name}.py"), *args],
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                cwd=outputs,
            )
        programs[name] = Program(name, process, output)
    try:
        yield programs
    finally:
        for program in programs.values():
            if program.process.poll() is None:
                program.process.kill()
                program.process.wait()


@pytest.fixture(scope="session", autouse=True)
def _sdk_programs_start_first(sdk_programs: dict[str, Program]) -> None:
    """Start the SDK programs before any test runs, so the boto3 tests overlap with their sleeps."""
