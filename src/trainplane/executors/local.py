"""The local executor: each host of an attempt is a runtime-agent process on this machine.

Agents run in their own session, so a control plane that exits (or is killed) leaves them running and a
restarted one can adopt them by PID (checked against the process start time, so a recycled PID is never
mistaken for the agent).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import psutil

from trainplane.executors.base import HostLaunch, HostStatus
from trainplane.executors.cpus import CpuAllocator

_CHUNK_BYTES = 4 << 20  # at most this much of a host's output is read per bounded call


class LocalExecutor:
    name = "local"

    def __init__(
        self,
        python: str | None = None,
        base_env: dict[str, str] | None = None,
        *,
        warm_spare: bool = True,
        cpus: CpuAllocator | None = None,
    ) -> None:
        self._python = python or sys.executable
        self._cpus = cpus  # None: hosts run on any core (no pinning)
        self._base_env = dict(os.environ if base_env is None else base_env)
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        # A started agent waiting on stdin for its job: a launch then skips interpreter start-up and imports.
        self._warm_spare = warm_spare
        self._spare: subprocess.Popen[bytes] | None = None

    def launch(self, hosts: list[HostLaunch]) -> list[dict[str, Any]]:
        records = []
        for launch in hosts:
            launch.agent_dir.mkdir(parents=True, exist_ok=True)
            spec = {**launch.spec, "sandbox": {"unavailable": self._sandbox_reason()}}
            cores = self._cpus.allocate(str(launch.agent_dir), launch.cpus) if self._cpus else None
            if cores is not None:
                spec["cpu_set"] = cores
            (launch.agent_dir / "spec.json").write_text(json.dumps(spec, default=str))
            extra_env = {"CUDA_VISIBLE_DEVICES": ",".join(str(g) for g in launch.gpus)} if launch.gpus else {}
            process = self._take_spare(launch.agent_dir, extra_env) or self._spawn(
                launch.agent_dir, extra_env
            )
            self._children[process.pid] = process
            records.append(
                {
                    "host": launch.host,
                    "pid": process.pid,
                    "create_time": _create_time(process.pid),
                    "root": str(launch.root),
                    "agent_dir": str(launch.agent_dir),
                    **({"cpu_set": cores} if cores is not None else {}),
                }
            )
        self.prepare_spare()
        return records

    def _spawn(self, agent_dir: Path, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(agent_dir / "agent.log", "ab") as agent_log:
            return subprocess.Popen(
                [self._python, "-m", "trainplane.runtime.agent", str(agent_dir)],
                stdin=subprocess.DEVNULL,
                stdout=agent_log,
                stderr=subprocess.STDOUT,
                env={**self._base_env, **extra_env},
                start_new_session=True,
            )

    def _take_spare(self, agent_dir: Path, extra_env: dict[str, str]) -> subprocess.Popen[bytes] | None:
        spare, self._spare = self._spare, None
        if spare is None or spare.poll() is not None or spare.stdin is None:
            return None
        try:
            spare.stdin.write((json.dumps({"agent_dir": str(agent_dir), "env": extra_env}) + "\n").encode())
            spare.stdin.close()
        except OSError:
            spare.kill()
            return None
        return spare

    def prepare_spare(self) -> None:
        """Start a spare agent now, so the next launch is fast (called after each launch)."""
        if not self._warm_spare or (self._spare is not None and self._spare.poll() is None):
            return
        self._spare = subprocess.Popen(
            [self._python, "-m", "trainplane.runtime.agent", "--spare"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self._base_env,
            start_new_session=True,
        )

    def close(self) -> None:
        """Stop the spare agent; running agents are left alone (the next control plane adopts them)."""
        spare, self._spare = self._spare, None
        if spare is not None and spare.poll() is None:
            # Closing stdin makes the spare exit on its own; kill it if it does not.
            if spare.stdin is not None:
                spare.stdin.close()
            try:
                spare.wait(timeout=5)
            except subprocess.TimeoutExpired:
                spare.kill()
                spare.wait()

    def _sandbox_reason(self) -> str | None:
        # Probed once per control plane rather than once per agent (the probe runs bwrap).
        if not hasattr(self, "_sandbox"):
            from trainplane.runtime.sandbox import sandbox_available

            self._sandbox: str | None = sandbox_available()
        return self._sandbox

    def status(self, record: dict[str, Any]) -> HostStatus:
        agent_dir = Path(record["agent_dir"])
        alive = self._alive(record)
        if self._cpus is not None:
            if alive:
                self._cpus.claim(record["agent_dir"], record.get("cpu_set") or [])
            else:
                self._cpus.release(record["agent_dir"])
        result = _read_json(agent_dir / "result.json")
        return HostStatus(alive=alive, result=result, events=_events(agent_dir))

    def probe(self, record: dict[str, Any]) -> Hashable:
        """Whether the agent lives and the sizes of its event and result files: a few syscalls, where
        ``status`` reads and parses both files."""
        agent_dir = Path(record["agent_dir"])
        return self._alive(record), _size(agent_dir / "events.jsonl"), _size(agent_dir / "result.json")

    def read_output(
        self, record: dict[str, Any], offset: int, max_lines: int | None = None
    ) -> tuple[list[tuple[float, str]], int]:
        path = Path(record["agent_dir"]) / "output.log"
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                # A bounded read when the caller wants a bounded number of lines: a chatty job can be
                # hundreds of MB ahead of the control plane, and rereading all of it every tick is what
                # fell behind. A line longer than the bound is read whole.
                chunk = handle.read() if max_lines is None else handle.read(_CHUNK_BYTES)
                if max_lines is not None and len(chunk) == _CHUNK_BYTES and b"\n" not in chunk:
                    chunk += handle.read()
        except FileNotFoundError:
            return [], offset
        end = chunk.rfind(b"\n")
        if end < 0:
            return [], offset
        # Records end with "\n" only (a "\r" inside a line is text); with a bound, only the lines
        # wanted are split off: the last piece is the rest of the chunk (or empty).
        pieces = chunk[: end + 1].split(b"\n", -1 if max_lines is None else max_lines)
        raw_lines = [piece + b"\n" for piece in pieces[:-1]]
        lines = []
        for raw in raw_lines:
            stamp, _, text = raw.decode("utf-8", errors="replace").rstrip("\n").partition("\t")
            try:
                lines.append((float(stamp), text))
            except ValueError:
                lines.append((0.0, raw.decode("utf-8", errors="replace").rstrip("\n")))
        return lines, offset + sum(len(raw) for raw in raw_lines)

    def terminate(self, record: dict[str, Any]) -> None:
        if self._alive(record):
            _signal(record["pid"], signal.SIGTERM)

    def kill(self, record: dict[str, Any]) -> None:
        pid = record["pid"]
        targets: list[psutil.Process] = []
        try:
            agent = psutil.Process(pid)
            if _matches(agent, record):
                targets = [*agent.children(recursive=True), agent]
        except psutil.Error:
            targets = []
        # The algorithm runs in its own session (it gets SIGTERM alone, like a container's PID 1), and
        # anything it started may have left both sessions: kill the recorded child session too.
        child_pid = _read_json(Path(record["agent_dir"]) / "child.json")
        for process in targets:
            _signal(process.pid, signal.SIGKILL)
        if child_pid and child_pid.get("pid"):
            _killpg(int(child_pid["pid"]))
        _killpg(pid)
        self._reap(pid)
        if self._cpus is not None:
            self._cpus.release(record["agent_dir"])

    def _alive(self, record: dict[str, Any]) -> bool:
        pid = record["pid"]
        child = self._children.get(pid)
        if child is not None:
            if child.poll() is None:
                return True
            self._children.pop(pid, None)
            return False
        try:
            process = psutil.Process(pid)
            return _matches(process, record) and process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def _reap(self, pid: int) -> None:
        child = self._children.get(pid)
        if child is not None:
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                return
            self._children.pop(pid, None)


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _matches(process: psutil.Process, record: dict[str, Any]) -> bool:
    expected = record.get("create_time")
    return expected is None or abs(process.create_time() - expected) < 1.0


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return -1


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _events(agent_dir: Path) -> list[dict[str, Any]]:
    try:
        text = (agent_dir / "events.jsonl").read_text()
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being written right now
    return events
