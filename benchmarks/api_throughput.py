"""API throughput: boto3 CreateTrainingJob + DescribeTrainingJob against trainplane and moto, side by side.

    .venv/bin/python benchmarks/api_throughput.py [--seconds 30] [--threads 4] [--no-record]

Starts ``trainplane server --no-executor`` (SigV4 on, SQLite store in a scratch home; jobs stay queued,
so this measures the API, validation and the store, not training) and ``moto_server`` (moto's in-memory
SageMaker backend), then, for each in turn, ``--threads`` client threads loop for ``--seconds``: create a
uniquely named job, describe it. Every call's latency is recorded. Prints a table and records it in
benchmarks/RESULTS.md under "api_throughput" (replacing only that section). Goal for trainplane:
>= 200 requests/s and p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_line, percentile, table, xgboost_request

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## api_throughput"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} did not start")
        time.sleep(0.1)


def _start_trainplane(home: Path) -> tuple[subprocess.Popen[bytes], str, str, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRAINPLANE_"))}
    env.update(TRAINPLANE_ACCESS_KEY_ID="BENCHKEY", TRAINPLANE_SECRET_ACCESS_KEY="benchsecret")
    command = [sys.executable, "-m", "trainplane.cli.main", "--home", str(home), "server"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--no-executor"], env=env, stdout=subprocess.DEVNULL
    )
    _wait_listening(port, process)
    return process, f"http://127.0.0.1:{port}", "BENCHKEY", "benchsecret"


def _start_moto() -> tuple[subprocess.Popen[bytes], str, str, str]:
    port = _free_port()
    moto = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _wait_listening(port, process)
    return process, f"http://127.0.0.1:{port}", "testing", "testing"


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _load(url: str, key: str, secret: str, seconds: float, threads: int) -> tuple[list[float], int]:
    """(latencies in seconds of every successful call, number of failed calls)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    run = uuid.uuid4().hex[:6]

    def worker(index: int) -> None:
        client = boto3.client(
            "sagemaker",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )
        mine: list[float] = []
        n = 0
        while time.monotonic() < stop_at:
            name = f"bench-{run}-{index}-{n}"
            request = xgboost_request(name, "s3://bench/train/", "s3://bench/output", {"num_round": "1"})
            for call, kwargs in (
                (client.create_training_job, request),
                (client.describe_training_job, {"TrainingJobName": name}),
            ):
                started = time.perf_counter()
                try:
                    call(**kwargs)
                    mine.append(time.perf_counter() - started)
                except Exception:
                    with lock:
                        failures[0] += 1
            n += 1
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, failures[0]


def _row(name: str, latencies: list[float], failures: int, seconds: float) -> list[object]:
    ms = [1000 * x for x in latencies]
    return [
        name,
        len(latencies),
        failures,
        f"{len(latencies) / seconds:.0f}",
        f"{percentile(ms, 50):.1f}",
        f"{percentile(ms, 99):.1f}",
    ]


def _record(text: str) -> None:
    """Replace (or append) the api_throughput section of RESULTS.md, leaving other sections alone."""
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    section = f"{SECTION}\n\n{text.rstrip()}\n\n"
    if pattern.search(current):
        updated = pattern.sub(lambda _: section, current)
    else:
        updated = current.rstrip() + "\n\n" + section
    RESULTS.write_text(updated.rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-record", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    home = Path(tempfile.mkdtemp(prefix="api-throughput-"))
    rows = []
    try:
        for name, start in (
            ("trainplane (SQLite, SigV4)", lambda: _start_trainplane(home)),
            ("moto_server", _start_moto),
        ):
            process, url, key, secret = start()
            try:
                latencies, failures = _load(url, key, secret, args.seconds, args.threads)
            finally:
                _stop(process)
            rows.append(_row(name, latencies, failures, args.seconds))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    headers = ["server", "calls", "failed", "requests/s", "p50 ms", "p99 ms"]
    report = (
        f"boto3 CreateTrainingJob + DescribeTrainingJob, {args.threads} client threads (same machine), "
        f"{args.seconds:g} s per server, jobs left queued (`trainplane server --no-executor`). "
        f"{machine_line()}; 1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        "(other work shares the machine). Goal for trainplane: >= 200 requests/s, p99 <= 50 ms.\n\n"
        + table(headers, rows)
    )
    print(report)
    if not args.no_record:
        _record(report)


if __name__ == "__main__":
    main()
