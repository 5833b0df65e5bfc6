"""A simulated executor on a fake clock: hours of spot scenarios through the real reconciler in seconds.

Each host is a model of a checkpointing training job, not a process. The job's hyperparameters say
what it does (all optional)::

    sim_work_seconds        training work the job needs, uninterrupted (default 3600)
    sim_checkpoint_seconds  work between periodic checkpoints; 0 = none (default 600)
    sim_save_on_notice      "true": write a checkpoint when SIGTERM arrives (default "false")
    sim_save_seconds        time a notice-time checkpoint takes (default 10)
    sim_download_seconds    per attempt: provisioning, data and checkpoint download (default 60)
    sim_step_seconds        work per reported step, one ``trainplane-step: N`` line each (default 60)

A restarted attempt resumes from the newest checkpoint of its ``CheckpointConfig.S3Uri`` (kept in
memory, shared by all attempts of this executor), or from zero without one. Everything is a function
of the clock: ``status`` and ``read_output`` compute where a host is at ``clock.now()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainplane.clock import Clock
from trainplane.executors.base import HostLaunch, HostStatus
from trainplane.states import JobStatus


@dataclass(frozen=True)
class Workload:
    work: float = 3600.0
    checkpoint_every: float = 600.0
    save_on_notice: bool = False
    save_seconds: float = 10.0
    download: float = 60.0
    step: float = 60.0

    @classmethod
    def from_hyperparameters(cls, hps: dict[str, str]) -> Workload:
        def number(key: str, default: float) -> float:
            return float(hps.get(key, default))

        return cls(
            work=number("sim_work_seconds", 3600.0),
            checkpoint_every=number("sim_checkpoint_seconds", 600.0),
            save_on_notice=hps.get("sim_save_on_notice", "false").lower() == "true",
            save_seconds=number("sim_save_seconds", 10.0),
            download=number("sim_download_seconds", 60.0),
            step=number("sim_step_seconds", 60.0),
        )


@dataclass
class SimHost:
    workload: Workload
    checkpoint_key: str | None
    launched: float
    resumed_from: float  # work already done when this attempt started
    term_at: float | None = None
    killed_at: float | None = None

    @property
    def training_from(self) -> float:
        return self.launched + self.workload.download

    def done_at(self) -> float:
        return self.training_from + (self.workload.work - self.resumed_from)

    def progress(self, t: float) -> float:
        return min(self.workload.work, self.resumed_from + max(0.0, t - self.training_from))

    def exit_time(self) -> float | None:
        ends = [self.done_at()]
        if self.term_at is not None:
            ends.append(self.term_at + (self.workload.save_seconds if self.workload.save_on_notice else 0.0))
        if self.killed_at is not None:
            ends.append(self.killed_at)
        return min(ends)

    def saved(self, t: float) -> float:
        """The newest checkpoint this attempt has written by time ``t`` (0 for none)."""
        exited = self.exit_time() or t
        horizon = min(t, exited, self.term_at if self.term_at is not None else t)
        every = self.workload.checkpoint_every
        best = math.floor(self.progress(horizon) / every + 1e-9) * every if every > 0 else 0.0
        if self.term_at is not None and self.workload.save_on_notice:
            written = self.term_at + self.workload.save_seconds
            if t >= written and (self.killed_at is None or self.killed_at >= written):
                best = max(best, self.progress(self.term_at))
        return best


class SimulatedExecutor:
    name = "simulated"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.hosts: dict[str, SimHost] = {}
        self.checkpoints: dict[str, float] = {}  # S3Uri -> work saved
        self.launches = 0

    def launch(self, hosts: list[HostLaunch]) -> list[dict[str, Any]]:
        records = []
        for launch in hosts:
            for sub in ("model", "output/data"):
                (launch.root / sub).mkdir(parents=True, exist_ok=True)
            context = launch.spec["context"]
            key = (context.get("checkpoint_config") or {}).get("S3Uri")
            workload = Workload.from_hyperparameters(dict(context.get("hyperparameters") or {}))
            resumed = self.checkpoints.get(key, 0.0) if key else 0.0
            host_id = f"sim-{self.launches}-{launch.host}"
            self.hosts[host_id] = SimHost(workload, key, self.clock.now(), resumed)
            records.append({"host": launch.host, "sim": host_id, "root": str(launch.root)})
        self.launches += 1
        return records

    def _host(self, record: dict[str, Any]) -> SimHost:
        host = self.hosts[record["sim"]]
        if host.checkpoint_key is not None:
            now = self.clock.now()
            saved = host.saved(now)
            self.checkpoints[host.checkpoint_key] = max(self.checkpoints.get(host.checkpoint_key, 0.0), saved)
        return host

    def status(self, record: dict[str, Any]) -> HostStatus:
        host, now = self._host(record), self.clock.now()
        events = [{"event": "Downloading", "time": host.launched}]
        if now >= host.training_from:
            events.append({"event": "Training", "time": host.training_from})
        exited = host.exit_time()
        if exited is None or now < exited:
            return HostStatus(alive=True, result=None, events=events)
        if host.killed_at is not None and host.killed_at <= exited:
            return HostStatus(alive=False, result=None, events=events)  # no result.json after a kill
        code = 0 if host.progress(exited) >= host.workload.work and host.term_at is None else 143
        return HostStatus(alive=False, result={"exit_code": code, "time": exited}, events=events)

    def probe(self, record: dict[str, Any]) -> None:
        return None  # simulated time moves only between ticks: supervise every one

    def read_output(
        self, record: dict[str, Any], offset: int, max_lines: int | None = None
    ) -> tuple[list[tuple[float, str]], int]:
        host, now = self._host(record), self.clock.now()
        end = min(now, host.exit_time() or now)
        step = host.workload.step
        first = math.floor(host.resumed_from / step + 1e-9) + 1
        last = math.floor(host.progress(end) / step + 1e-9)
        lines = []
        for number in range(first + offset, last + 1):
            stamp = host.training_from + number * step - host.resumed_from
            lines.append((stamp, f"trainplane-step: {number}"))
            if max_lines is not None and len(lines) >= max_lines:
                break
        return lines, offset + len(lines)

    def terminate(self, record: dict[str, Any]) -> None:
        host = self._host(record)
        if host.term_at is None and (host.exit_time() or 0) > self.clock.now():
            host.term_at = self.clock.now()

    def kill(self, record: dict[str, Any]) -> None:
        host = self._host(record)
        if (host.exit_time() or 0) > self.clock.now():
            host.killed_at = self.clock.now()

    def kill_unrecorded(self, hosts: list[HostLaunch]) -> None:
        """Nothing to do: simulated hosts live in this process and die with its control plane."""


class Simulation:
    """The real store, service and reconciler over a :class:`SimulatedExecutor` and a fake clock.

    ``run(request)`` creates the job and ticks the loop, ``tick_seconds`` of fake time per tick, until
    the job ends; it returns DescribeTrainingJob's answer. ``environ`` holds trainplane settings.
    """

    def __init__(self, home: Path, environ: dict[str, str] | None = None, tick_seconds: float = 30.0) -> None:
        from trainplane.catalog.capacity import Resources
        from trainplane.clock import FakeClock
        from trainplane.control.reconciler import Reconciler
        from trainplane.service.training import TrainingService
        from trainplane.settings import load_settings
        from trainplane.store import open_store

        self.clock = FakeClock()
        self.settings = load_settings({**(environ or {}), "TRAINPLANE_HOME": str(home)})
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.store = open_store(self.settings.database_url)
        machine = Resources(4096, 1 << 20, 256)
        self.service = TrainingService(
            self.store, self.settings, self.clock, machine=machine, refuse_unrunnable=False
        )
        self.executor = SimulatedExecutor(self.clock)
        self.reconciler = Reconciler(self.store, self.settings, self.clock, self.executor, machine)
        self.tick_seconds = tick_seconds

    def run(self, request: dict[str, Any], max_seconds: float = 30 * 86400) -> dict[str, Any]:
        name = request["TrainingJobName"]
        self.service.create_training_job(request)
        deadline = self.clock.now() + max_seconds
        while self.clock.now() < deadline:
            self.reconciler.tick()
            self.reconciler.settle()
            job = self.store.get_training_job(name)
            if job is not None and JobStatus(job.status).is_terminal():
                return self.service.describe_training_job({"TrainingJobName": name})
            self.clock.advance(self.tick_seconds)
        raise TimeoutError(f"simulated job {name} did not end within {max_seconds} s")

    def close(self) -> None:
        self.reconciler.close()
        self.store.engine.dispose()
