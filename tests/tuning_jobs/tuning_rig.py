"""A fast rig for the tuner: the real service, store and tuner, with children simulated in the store.

No process runs: ``Rig.report`` writes a child's objective points and ``Rig.finish`` ends it, as the
reconciler would after a real job. The clock is fake, so MaxRuntimeInSeconds tests take no time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainplane.clock import FakeClock
from trainplane.control.tuner import Tuner
from trainplane.platform import Platform
from trainplane.store.records import MetricPoint, TrainingJob

Loss = Callable[[dict[str, str]], list[float]]


class Rig:
    def __init__(self, platform: Platform, clock: FakeClock, tmp_path: Path) -> None:
        self.platform, self.clock, self.tmp_path = platform, clock, tmp_path
        self.service, self.store = platform.tuning, platform.store
        self.tuner = Tuner(self.service, clock, "tuner-a")

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.service.create_hyper_parameter_tuning_job(request)

    def describe(self, name: str) -> dict[str, Any]:
        return self.service.describe_hyper_parameter_tuning_job({"HyperParameterTuningJobName": name})

    def children(self, name: str, **request: Any) -> list[dict[str, Any]]:
        page = self.service.list_training_jobs_for_hyper_parameter_tuning_job(
            {"HyperParameterTuningJobName": name, "MaxResults": 100, **request}
        )
        return list(page["TrainingJobSummaries"])

    def tick(self) -> None:
        self.clock.advance(1)
        self.tuner.tick()

    def active(self) -> list[TrainingJob]:
        return self.store.list_training_jobs(statuses=["InProgress"], sort_by="Name", ascending=True)

    def report(self, name: str, *values: float, metric: str = "loss", host: str = "algo-1") -> None:
        now = self.clock.now()
        self.store.add_metric_points(name, [MetricPoint(metric, v, now, host) for v in values])

    def finish(self, name: str, status: str = "Completed", reason: str | None = None) -> None:
        fields: dict[str, Any] = {"failure_reason": reason} if reason else {}
        job = self.store.get_training_job(name)
        if job is not None and job.training_start_time is None:
            fields["training_start_time"] = self.clock.now()
        self.store.update_training_job(
            name, now=self.clock.now(), status=status, secondary=status, phase="done",
            training_end_time=self.clock.now(), **fields,
        )  # fmt: skip

    def settle_stops(self) -> None:
        for job in self.store.list_training_jobs(statuses=["Stopping"]):
            self.finish(job.name, "Stopped")

    def run(self, name: str, loss: Loss, max_ticks: int = 200) -> dict[str, Any]:
        """Tick until the tuning job ends; every child reports loss(hps) and completes in one tick."""
        for _ in range(max_ticks):
            self.tick()
            self.settle_stops()
            for job in self.active():
                self.report(job.name, *loss(job.request["HyperParameters"]))
                self.finish(job.name)
            description = self.describe(name)
            if description["HyperParameterTuningJobStatus"] in ("Completed", "Failed", "Stopped"):
                return description
        raise AssertionError(f"tuning job {name} did not end in {max_ticks} ticks")


def quadratic(hps: dict[str, str]) -> list[float]:
    """Three epochs of (x - 0.3)^2 + 1/epoch."""
    x = float(hps["x"])
    return [(x - 0.3) ** 2 + 1 / epoch for epoch in (1, 2, 3)]
