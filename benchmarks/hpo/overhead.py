"""End-to-end cost per child of a tuning job, and the tuner's own share of it.

    .venv/bin/python benchmarks/hpo/overhead.py [--children 10] [--simulated 200]

1. *End to end*: ``TrainPlane`` with a temporary home (SQLite, background reconciler, local executor, a
   runtime agent process per child) runs a Random tuning job whose children are a no-op script-mode
   program (``pass``), MaxParallelTrainingJobs=2. Cost per child = wall time from
   CreateHyperParameterTuningJob to Completed, divided by the number of children. Beside it, the mean
   lifetime of one child (CreationTime to TrainingEndTime) shows how much is the job machinery itself.
2. *Tuner only*: the same tuning logic with children simulated in the store (no processes; the rig of
   tests/tuning_jobs): the CPU time of the tuner's ticks per child, i.e. what the tuning layer adds on
   top of the training-job machinery.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "tuning_jobs")]

from tuning_helpers import tuning_request  # noqa: E402
from tuning_rig import Rig  # noqa: E402

from trainplane import TrainPlane  # noqa: E402
from trainplane.clock import FakeClock  # noqa: E402
from trainplane.platform import build_platform  # noqa: E402
from trainplane.settings import load_settings  # noqa: E402

NO_OP = "pass\n"


def end_to_end(children: int, tmp: Path) -> tuple[float, float]:
    request = tuning_request("overhead", tmp, max_jobs=children, parallel=2, code=NO_OP)
    with TrainPlane(home=tmp / "home") as tp:
        start = time.perf_counter()
        tp.create_hyper_parameter_tuning_job(**request)
        tp.wait_for_tuning_job("overhead", poll=0.02)
        wall = time.perf_counter() - start
        summaries = tp.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="overhead", MaxResults=100
        )["TrainingJobSummaries"]
    lifetimes = [(s["TrainingEndTime"] - s["CreationTime"]).total_seconds() for s in summaries]
    return wall / children, statistics.mean(lifetimes)


def tuner_only(children: int, tmp: Path) -> float:
    platform = build_platform(load_settings({}, home=tmp / "sim"), clock=FakeClock(), control=False)
    rig = Rig(platform, FakeClock(), tmp)
    rig.create(tuning_request("sim", tmp, max_jobs=children, parallel=2))
    start = time.process_time()
    rig.run("sim", lambda hps: [0.5], max_ticks=children * 2)
    per_child = (time.process_time() - start) / children
    platform.close()
    return per_child


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=10)
    parser.add_argument("--simulated", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        per_child, lifetime = end_to_end(args.children, tmp)
        simulated = tuner_only(args.simulated, tmp)
    print(f"end to end, {args.children} no-op children, MaxParallel 2: {per_child * 1000:.0f} ms per child")
    print(f"mean child lifetime (creation to end): {lifetime * 1000:.0f} ms")
    print(
        f"tuner only (simulated children, includes the rig's store writes), {args.simulated} children: "
        f"{simulated * 1000:.1f} ms CPU per child"
    )


if __name__ == "__main__":
    main()
