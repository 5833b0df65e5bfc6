"""CPU the control plane itself uses, idle and while a job runs (it shares the cores with the job).

    .venv/bin/python benchmarks/control_plane_load.py [--idle-seconds 10] [--rows 2000000] [--jobs 0]

An in-process ``TrainPlane`` (SQLite store, background reconciler, local executor) is the control plane;
its process CPU time (``getrusage``: every thread, the reconciler's included, not the job's processes) is
measured:

* idle: no job at all, for ``--idle-seconds``;
* during a job: `scaling.py`'s 2-instance XGBoost job (2M rows, 50 rounds), from CreateTrainingJob
  until ``wait_for_training_job`` returns; the job's T (TrainingEndTime - TrainingStartTime) is shown;
* with ``--jobs N``: N more 2-instance jobs, `scaling.py`'s Linear Learner (batch 10000), each created
  3 s after the previous one ended: the control plane's CPU per job (median and largest) and Python's
  full (generation 2) collections in its process while they ran, with the CPU they took. A full
  collection holds the GIL on whichever core the collecting thread runs, one a host needs.

Before/after comparisons run the same script against another checkout's code:
``PYTHONPATH=<checkout>/src .venv/bin/python benchmarks/control_plane_load.py``.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scaling
from trainplane import TrainPlane


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class FullCollections:
    """Python's generation-2 collections in this process while ``counting``, and the CPU each took (on
    the thread that collected)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.counting = False
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2 or not self.counting:
            return
        if phase == "start":
            self._started = time.thread_time()
        else:
            self.seconds.append(time.thread_time() - self._started)


def linear_learner_jobs(tp: TrainPlane, root: Path, train: str, validation: str, count: int) -> str:
    """``count`` 2-instance Linear Learner jobs: a Markdown table row of the control plane's cost."""
    hps = scaling.linear_learner_hyperparameters(15, 10_000)
    collections = FullCollections()
    per_job = []
    for index in range(count):
        job = scaling.request(f"ll-{index}", root / "out", train, validation, 2, scaling.LL_IMAGE, hps)
        time.sleep(scaling.SETTLE_SECONDS)  # as in scaling.py: the spares warm up, not counted
        cpu, collections.counting = cpu_seconds(), True
        tp.create_training_job(**job)
        description = tp.wait_for_training_job(job["TrainingJobName"], timeout=3600)
        per_job.append(cpu_seconds() - cpu)
        collections.counting = False
        if description["TrainingJobStatus"] != "Completed":
            raise SystemExit(f"{job['TrainingJobName']}: {description.get('FailureReason')}")
    full = collections.seconds
    return (
        f"| {count} 2-instance Linear Learner jobs | {statistics.median(per_job):.3f} / {max(per_job):.3f} "
        f"| {len(full)} | {1e3 * sum(full):.0f} / {1e3 * max(full, default=0.0):.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--jobs", type=int, default=0, help="Linear Learner jobs after")
    args = parser.parse_args()
    import trainplane

    print(f"trainplane from {Path(trainplane.__file__).parent}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train = scaling.write_parts(root / "train", args.rows, 8, 0)
        validation = scaling.write_parts(root / "validation", 100_000, 1, 1)
        environ = {"TRAINPLANE_HOME": str(root / "home"), "TRAINPLANE_OVERSUBSCRIPTION": "2"}
        with TrainPlane(environ=environ) as tp:
            time.sleep(1.0)  # past start-up
            cpu, wall = cpu_seconds(), time.monotonic()
            time.sleep(args.idle_seconds)
            idle = (cpu_seconds() - cpu) / (time.monotonic() - wall)
            hps = scaling.xgboost_hyperparameters(50)
            job = scaling.request("load-2", root / "out", train, validation, 2, scaling.IMAGE, hps)
            cpu, wall = cpu_seconds(), time.monotonic()
            seconds, _ = scaling.run(tp, job)
            busy = (cpu_seconds() - cpu) / (time.monotonic() - wall)
            jobs = linear_learner_jobs(tp, root, train, validation, args.jobs) if args.jobs else ""
    print("| control plane | CPU, % of one core |")
    print("|---|---|")
    print(f"| idle ({args.idle_seconds:g} s) | {100 * idle:.1f} |")
    print(f"| during the 2-instance XGBoost job (T = {seconds:.2f} s) | {100 * busy:.1f} |")
    if jobs:
        print()
        print(
            "| jobs | control-plane CPU per job, median / largest (s) | full collections "
            "| their CPU, all / largest (ms) |"
        )
        print("|---|---|---|---|")
        print(jobs)


if __name__ == "__main__":
    main()
