"""Built-in XGBoost and Linear Learner, 1 instance vs 2 instances (ShardedByS3Key), one core per instance.

    .venv/bin/python benchmarks/scaling.py [--rows 2000000] [--rounds 50] [--epochs 15]
                                           [--ll-batches 1000,10000] [--only xgboost|linear-learner]
                                           [--repeats 3] [--timeline]

``--timeline`` also prints where each job's time went, from algo-1's log lines: start-up (until the
first round's metric line, XGBoost, or "Training N models", Linear Learner), training (until the last
round's or epoch's line), finish (until TrainingEndTime); how many hosts started in a pre-loaded
interpreter; and what ``import torch`` (Linear Learner) and the modules an XGBoost host pre-loads cost
on one core. TRAINPLANE_PIN_CPUS, TRAINPLANE_SPARE_AGENTS and TRAINPLANE_POLL_INTERVAL_SECONDS from the
environment are passed on (``TRAINPLANE_PIN_CPUS=0``:
hosts unpinned; ``TRAINPLANE_SPARE_AGENTS=0``: every host a fresh interpreter; a longer poll interval: a
control plane that wakes less often).

Every timed job starts as a user's next job would, on an idle machine whose spare agents are warm:
each algorithm first runs one untimed job (100k rows), and each timed job is created ``SETTLE_SECONDS``
after the previous one ended (the spares warm up on idle cores only). T1 and T2 get the same treatment.

2M generated rows (16 features, a non-linear target) in 8 Parquet objects; validation 100k rows,
FullyReplicated. The features lie on a grid of 0.05 (about 200 distinct values each, fewer than
XGBoost's 256 bins), so XGBoost's histogram cuts are exact on one host and on two, and the comparison
of the final metric tests the distributed algorithm rather than the quantile sketch's approximation.
(On continuous features the sketch alone moves validation:rmse by 5e-3 to 1e-2 at 50 rounds: a single
host that reads the same rows in another order lands that far off; see benchmarks/RESULTS.md.)

Each instance gets one thread: the catalog has no 1-vCPU type, so the jobs run on ml.m5.large with
TRAINPLANE_OVERSUBSCRIPTION=2 (two ml.m5.large fit on 2 cores) and OMP_NUM_THREADS=1 (torch, OpenMP
and Arrow's reader pool); XGBoost also gets ``nthread=1``, and Linear Learner's own rule picks one
intra-op thread for a 1000 x 16 x 32 step (``fit.threads_for``).
T = TrainingEndTime - TrainingStartTime (staging + load + training + selection). Each row runs
``--repeats`` pairs of a 1-instance and a 2-instance job in turn and reports the medians: efficiency =
median T1 / (2 x median T2); each pair's own efficiency is printed as it ends (a single pair moves by
+-0.05 with this VM's noise).
Goals: efficiency >= 0.85; final validation:rmse of both within 1e-3 (XGBoost, absolute) and within
0.5 % (Linear Learner: a regressor, 32 models, SageMaker's default 15 epochs, early stopping off so
both jobs run every epoch; 2 hosts take local steps and average their models every ~256k rows;
``mini_batch_size`` per host from ``--ll-batches``: 1000 is SageMaker's default).

Two cores are the whole machine: run it with nothing else busy, or T2 (which needs both) suffers more
than T1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trainplane import TrainPlane
from trainplane.algorithms.registry import XGBOOST

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
HEADER = (
    "| algorithm | median T1 (s) | median T2 (s) | efficiency T1/(2xT2) "
    "| validation:rmse 1 | validation:rmse 2 | diff |"
)
LL_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
GRID = 0.05
SETTLE_SECONDS = 3.0


def write_parts(directory: Path, rows: int, parts: int, seed: int) -> str:
    directory.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for part in range(parts):
        n = rows // parts
        # On a grid of 0.05 (about 200 distinct values per feature, under XGBoost's 256 bins), so that
        # the histogram cuts are exact on one host and on two: see the module docstring.
        x = (np.round(rng.normal(size=(n, 16)) / GRID) * GRID).astype(np.float32)
        y = x[:, :8].sum(axis=1) + np.sin(3 * x[:, 8]) * x[:, 9] + rng.normal(scale=0.1, size=n)
        columns = {"label": y.astype(np.float32), **{f"f{i}": x[:, i] for i in range(16)}}
        pq.write_table(pa.table(columns), directory / f"part-{part}.parquet")
    return f"file://{directory}/"


def xgboost_hyperparameters(rounds: int) -> dict[str, str]:
    return {
        "num_round": str(rounds),
        "max_depth": "6",
        "eta": "0.3",
        "nthread": "1",
        "tree_method": "hist",
        "objective": "reg:squarederror",
    }


def linear_learner_hyperparameters(epochs: int, batch: int) -> dict[str, str]:
    return {
        "predictor_type": "regressor",
        "epochs": str(epochs),
        "mini_batch_size": str(batch),
        "num_models": "32",
        "early_stopping_patience": str(epochs + 1),
    }


def request(
    name: str,
    out: Path,
    train: str,
    validation: str,
    count: int,
    image: str,
    hps: dict[str, str],
    warm_up: bool = False,
) -> dict[str, Any]:
    """The job; ``warm_up``: on the 100k validation rows only, train and validation."""

    def channel(channel_name: str, uri: str, distribution: str) -> dict[str, Any]:
        source = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
        return {"ChannelName": channel_name, "DataSource": {"S3DataSource": source},
                "ContentType": "application/x-parquet"}  # fmt: skip

    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": hps,
        "InputDataConfig": [
            channel("train", validation if warm_up else train, "ShardedByS3Key"),
            channel("validation", validation, "FullyReplicated"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"file://{out}"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": count, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "Environment": {"OMP_NUM_THREADS": "1"},
    }


# algo-1's lines that open and close the training phase, by algorithm (see --timeline).
TRAINING_STARTS = {"xgboost": r"^\[0\]\t", "linear-learner": r"^Training \d+ models"}
TRAINING_LINES = {"xgboost": r"^\[\d+\]\t", "linear-learner": r"^#progress_metric: host=algo-1"}


def run(tp: TrainPlane, job: dict[str, Any], timeline: bool = False) -> tuple[float, float]:
    time.sleep(SETTLE_SECONDS)
    tp.create_training_job(**job)
    name = job["TrainingJobName"]
    description = tp.wait_for_training_job(name, timeout=3600)
    if description["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"{name}: {description.get('FailureReason')}")
    seconds = (description["TrainingEndTime"] - description["TrainingStartTime"]).total_seconds()
    metrics = {m["MetricName"]: m["Value"] for m in description["FinalMetricDataList"]}
    if timeline:
        print_timeline(tp, name, description)
    return seconds, metrics["validation:rmse"]


def print_timeline(tp: TrainPlane, name: str, description: dict[str, Any]) -> None:
    algorithm = "xgboost" if name.startswith("xgboost") else "linear-learner"
    start = description["TrainingStartTime"].timestamp()
    end = description["TrainingEndTime"].timestamp()
    lines = [(e.timestamp, e.message) for e in tp.log_events(name, host="algo-1")]
    opened = next(t for t, text in lines if re.search(TRAINING_STARTS[algorithm], text))
    closed = max(t for t, text in lines if re.search(TRAINING_LINES[algorithm], text))
    agents = sorted((tp.settings.jobs_root / name).glob("*/*.agent"))
    preloaded = sum(json.loads((a / "child.json").read_text()).get("preloaded", False) for a in agents)
    print(
        f"  {name}: start-up {opened - start:.2f} s, training {closed - opened:.2f} s, "
        f"finish {end - closed:.2f} s; {preloaded} of {len(agents)} hosts pre-loaded"
    )


def import_seconds(modules: Sequence[str]) -> float:
    """Importing ``modules`` in a fresh interpreter on one core (what each host pays unless pre-loaded)."""
    code = (
        "import importlib, os, sys, time; os.sched_setaffinity(0, {0}); t = time.perf_counter(); "
        "[importlib.import_module(m) for m in sys.argv[1:]]; print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True)
    return float(done.stdout)


def compare(
    tp: TrainPlane, name: str, make: Any, goal: str, within: Any, repeats: int = 1, timeline: bool = False
) -> str:
    """Run the 1- and 2-instance jobs of one algorithm, ``repeats`` pairs taken in turn (a slow spell of
    the machine then hits both); a Markdown table row with the median times and the verdicts."""
    run(tp, make(f"{name}-warm-up", 1, True))  # untimed: as after a user's earlier job of this kind
    pairs = []
    for repeat in range(1, repeats + 1):
        suffix = f"-{repeat}" if repeats > 1 else ""
        (t1, m1), (t2, m2) = (run(tp, make(f"{name}-{n}{suffix}", n), timeline) for n in (1, 2))
        pairs.append((t1, t2))
        print(
            f"{name}{suffix}: T1 {t1:.1f} s, T2 {t2:.1f} s, efficiency {t1 / (2 * t2):.3f}; "
            f"rmse {m1:.6f} vs {m2:.6f}",
            flush=True,
        )
    t1, t2 = (statistics.median(times) for times in zip(*pairs, strict=True))
    efficiency = t1 / (2 * t2)
    close, diff = within(m1, m2)
    return (
        f"| {name} | {t1:.2f} | {t2:.2f} | {efficiency:.3f} "
        f"({'meets' if efficiency >= 0.85 else 'misses'} >= 0.85) | {m1:.6f} | {m2:.6f} | "
        f"{diff} ({'meets' if close else 'misses'} {goal}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--ll-batches", default="1000,10000", help="Linear Learner mini_batch_size values")
    parser.add_argument("--only", choices=("xgboost", "linear-learner"))
    parser.add_argument("--timeline", action="store_true", help="print each job's phases")
    parser.add_argument("--repeats", type=int, default=3, help="1- and 2-instance job pairs per row")
    args = parser.parse_args()
    rows = [HEADER, "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train = write_parts(root / "train", args.rows, 8, 0)
        validation = write_parts(root / "validation", 100_000, 1, 1)
        environ = {"TRAINPLANE_HOME": str(root / "home"), "TRAINPLANE_OVERSUBSCRIPTION": "2"}
        for passed in ("TRAINPLANE_PIN_CPUS", "TRAINPLANE_SPARE_AGENTS", "TRAINPLANE_POLL_INTERVAL_SECONDS"):
            if passed in os.environ:
                environ[passed] = os.environ[passed]
        out = root / "out"
        with TrainPlane(environ=environ) as tp:
            if args.only != "linear-learner":
                hps = xgboost_hyperparameters(args.rounds)
                rows.append(
                    compare(
                        tp,
                        f"xgboost-{args.rounds}-rounds",
                        lambda name, n, w=False: request(name, out, train, validation, n, IMAGE, hps, w),
                        "<= 1e-3",
                        lambda a, b: (abs(a - b) <= 1e-3, f"{abs(a - b):.2e}"),
                        args.repeats,
                        args.timeline,
                    )
                )
            for batch in [] if args.only == "xgboost" else map(int, args.ll_batches.split(",")):
                ll_hps = linear_learner_hyperparameters(args.epochs, batch)
                rows.append(
                    compare(
                        tp,
                        f"linear-learner-{args.epochs}-epochs-batch-{batch}",
                        lambda name, n, w=False, h=ll_hps: request(
                            name, out, train, validation, n, LL_IMAGE, h, w
                        ),
                        "<= 0.5 %",
                        lambda a, b: (abs(a - b) <= 0.005 * a, f"{100 * abs(a - b) / a:.3f} %"),
                        args.repeats,
                        args.timeline,
                    )
                )
    if args.timeline and args.only != "xgboost":
        print(f"import torch on one core: {import_seconds(['torch']):.2f} s")
    if args.timeline and args.only != "linear-learner":
        preloaded = ", ".join(f"{import_seconds(XGBOOST.preload):.2f}" for _ in range(3))
        print(f"XGBoost hosts' pre-loaded modules, imported on one core: {preloaded} s (three interpreters)")
    print(f"rows={args.rows} rounds={args.rounds} epochs={args.epochs}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
