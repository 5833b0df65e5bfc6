"""CPU the control plane itself uses, idle and while a job runs (it shares the cores with the job).

    .venv/bin/python benchmarks/control_plane_load.py [--idle-seconds 10] [--rows 2000000]

An in-process ``TrainPlane`` (SQLite store, background reconciler, local executor) is the control plane;
its process CPU time (``getrusage``: every thread, the reconciler's included, not the job's processes) is
measured:

* idle: no job at all, for ``--idle-seconds``;
* during a job: `scaling.py`'s 2-instance XGBoost job (2M rows, 50 rounds), from CreateTrainingJob
  until ``wait_for_training_job`` returns; the job's T (TrainingEndTime - TrainingStartTime) is shown.

Before/after comparisons run the same script against another checkout's code:
``PYTHONPATH=<checkout>/src .venv/bin/python benchmarks/control_plane_load.py``.
"""

from __future__ import annotations

import argparse
import resource
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--rows", type=int, default=2_000_000)
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
    print("| control plane | CPU, % of one core |")
    print("|---|---|")
    print(f"| idle ({args.idle_seconds:g} s) | {100 * idle:.1f} |")
    print(f"| during the 2-instance XGBoost job (T = {seconds:.2f} s) | {100 * busy:.1f} |")


if __name__ == "__main__":
    main()
