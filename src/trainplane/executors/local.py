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
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from trainplane.executors.base import HostLaunch, HostStatus
from trainplane.executors.cpus import CpuAllocator
from trainplane.runtime.program import preload_for

_CHUNK_BYTES = 4 << 20  # at most this much of a host's output is read per bounded call
# Spare agents kept waiting: enough for a two-host job to start every host warm (a host that starts
# cold holds the others at the first collective, and loses what the warm ones gained).
SPARES = 2
LAUNCH_RECORD = "launch.json"  # in each agent's directory: the record ``launch`` returned for it


@dataclass
class _Spare:
    process: subprocess.Popen[bytes]
    preload: tuple[str, ...]

    @classmethod
    def start(
        cls, python: str, env: dict[str, str], cores: Sequence[int], preload: tuple[str, ...]
    ) -> _Spare:
        argv = [python, "-m", "trainplane.runtime.agent", "--spare"]
        if cores:
            argv += ["--cpus", ",".join(map(str, cores))]
        if preload:
            argv += ["--preload", ",".join(preload)]
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        return cls(process, preload)

    def retire(self) -> None:
        """Closing stdin makes the spare exit on its own, without running anything."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def stop(self) -> None:
        """Retire and wait; kill the spare if it does not exit."""
        if self.process.poll() is not None:
            return
        self.retire()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class LocalExecutor:
    name = "local"

    def __init__(
        self,
        python: str | None = None,
        base_env: dict[str, str] | None = None,
        *,
        warm_spare: bool = True,
        spares: int | None = None,
        cpus: CpuAllocator | None = None,
    ) -> None:
        self._python = python or sys.executable
        self._cpus = cpus  # None: hosts run on any core (no pinning)
        self._base_env = dict(os.environ if base_env is None else base_env)
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        # Started agents waiting on stdin for a job each: a launch then skips interpreter start-up and
        # imports (and, pre-loaded, the built-in's own heavy imports: ``runtime.preload``).
        self._spare_count = (SPARES if spares is None else spares) if warm_spare else 0
        self._spares: list[_Spare] = []
        self._retired: list[_Spare] = []  # told to exit, not yet reaped
        self._preload: tuple[str, ...] = ()  # what new spares pre-load: the last launched job's
        self._spare_lock = threading.RLock()

    def launch(self, hosts: list[HostLaunch]) -> list[dict[str, Any]]:
        records = []
        if hosts:
            self._want_preload(hosts[0].spec)
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
            record = {
                "host": launch.host,
                "pid": process.pid,
                "create_time": _create_time(process.pid),
                "root": str(launch.root),
                "agent_dir": str(launch.agent_dir),
                **({"cpu_set": cores} if cores is not None else {}),
            }
            # Beside the agent as well as in the store: ``kill_unrecorded`` finds it there when the
            # control plane died before storing the attempt.
            (launch.agent_dir / LAUNCH_RECORD).write_text(json.dumps(record))
            records.append(record)
        self.prepare_spare()
        return records

    def kill_unrecorded(self, hosts: list[HostLaunch]) -> None:
        for launch in hosts:
            record = _read_json(launch.agent_dir / LAUNCH_RECORD)
            # Only a record that can tell its agent from a process that reused the pid.
            if record and record.get("create_time") is not None and self._alive(record):
                self.kill(record)

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
        """A waiting spare for this host, one pre-loaded for the current built-in first."""
        with self._spare_lock:
            live = [spare for spare in self._spares if spare.process.poll() is None]
            live.sort(key=lambda spare: spare.preload != self._preload)  # stable: oldest first otherwise
            self._spares = live[1:]
        if not live:
            return None
        process = live[0].process
        if process.stdin is None:
            return None
        try:
            process.stdin.write((json.dumps({"agent_dir": str(agent_dir), "env": extra_env}) + "\n").encode())
            process.stdin.close()
        except OSError:
            process.kill()
            return None
        return process

    def _want_preload(self, spec: dict[str, Any]) -> None:
        """Spares from now on pre-load what this job's program would import first; spares that
        pre-load something else are retired (the next job is most likely another like this one)."""
        wanted = preload_for(
            spec.get("algorithm_specification", {}), spec.get("context", {}).get("hyperparameters", {})
        )
        with self._spare_lock:
            if wanted == self._preload:
                return
            self._preload = wanted
            retired = [spare for spare in self._spares if spare.preload != wanted]
            self._spares = [spare for spare in self._spares if spare.preload == wanted]
            self._retired += retired
        for spare in retired:
            spare.retire()  # it exits by itself; reaped by a later prepare_spare or close

    def prepare_spare(self) -> None:
        """Top the pool of spare agents up, on idle cores only (called after each launch and whenever a
        host ends): a spare's start-up, and a pre-loading one's imports, must not slow running hosts.
        With pinning off, every core counts as idle."""
        with self._spare_lock:
            self._spares = [spare for spare in self._spares if spare.process.poll() is None]
            self._retired = [spare for spare in self._retired if spare.process.poll() is None]
            missing = self._spare_count - len(self._spares)
            if missing <= 0:
                return
            idle = self._idle_cores()
            if idle == []:
                return  # every core runs a host: warm up when one frees
            for i in range(missing):
                cores = [idle[i % len(idle)]] if idle else []
                self._spares.append(_Spare.start(self._python, self._base_env, cores, self._preload))

    def spares(self) -> list[tuple[int, tuple[str, ...]]]:
        """The spare agents waiting now: PID and what each pre-loads."""
        with self._spare_lock:
            return [(s.process.pid, s.preload) for s in self._spares if s.process.poll() is None]

    def _idle_cores(self) -> list[int] | None:
        if self._cpus is None:
            return None
        return [core for core, hosts in self._cpus.load().items() if hosts == 0]

    def close(self) -> None:
        """Stop the spare agents; running agents are left alone (the next control plane adopts them)."""
        with self._spare_lock:
            spares, self._spares, self._retired = self._spares + self._retired, [], []
        for spare in spares:
            spare.stop()

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
        if not alive:
            self.prepare_spare()  # its cores may be idle now
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
        self.prepare_spare()

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
