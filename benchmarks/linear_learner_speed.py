"""Linear Learner speed and memory on 1M x 50 binary data (numbers quoted in the commit/report).

    .venv/bin/python benchmarks/linear_learner_speed.py [--rows 1000000] [--threads 2] [--batch 1000]

1. scikit-learn ``SGDClassifier`` one epoch vs. one Linear Learner epoch with ``num_models=32``.
2. A full ``python -m trainplane.algorithms.linear_learner`` job on the same data as CSV (one epoch), whose
   peak RSS is compared with the float32 size of the data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_data(rows: int, features: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, features), dtype=np.float32)
    w = rng.standard_normal(features).astype(np.float32)
    y = (x @ w + rng.standard_normal(rows).astype(np.float32) > 0).astype(np.float32)
    return x, y


def time_sklearn(x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.linear_model import SGDClassifier

    clf = SGDClassifier(loss="log_loss", max_iter=1, tol=None, shuffle=False)
    start = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(x, y)
    return time.perf_counter() - start


def time_epoch(x: np.ndarray, y: np.ndarray, batch: int, threads: int) -> float:
    import torch

    from trainplane.algorithms.formats import Dataset
    from trainplane.algorithms.linear_learner import data
    from trainplane.algorithms.linear_learner.fit import threads_for
    from trainplane.algorithms.linear_learner.hyperparameters import parse
    from trainplane.algorithms.linear_learner.losses import make_loss
    from trainplane.algorithms.linear_learner.model import MultiLinear, model_grid
    from trainplane.algorithms.linear_learner.trainer import Trainer

    hp = parse({"predictor_type": "binary_classifier", "num_models": "32", "mini_batch_size": str(batch)})
    ds = Dataset(x, y)
    torch.set_num_threads(threads_for(hp, x.shape[1], threads))
    scaler = data.fit_scaler(ds, hp)
    model = MultiLinear(x.shape[1], hp, model_grid(hp))
    trainer = Trainer(hp, ds, None, scaler, make_loss(hp), None, model)
    start = time.perf_counter()
    trainer.train_epoch(0)
    return time.perf_counter() - start


def job_rss(x: np.ndarray, y: np.ndarray, batch: int, threads: int) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(prefix="llbench-"))
    channel = root / "input" / "data" / "train"
    channel.mkdir(parents=True)
    (root / "input" / "config").mkdir(parents=True, exist_ok=True)
    np.savetxt(channel / "train.csv", np.column_stack([y, x]), delimiter=",", fmt="%.6g")
    (root / "input" / "config" / "hyperparameters.json").write_text(
        json.dumps({"predictor_type": "binary_classifier", "epochs": "1", "mini_batch_size": str(batch)})
    )
    (root / "input" / "config" / "inputdataconfig.json").write_text(
        json.dumps({"train": {"ContentType": "text/csv"}})
    )
    env = {
        **os.environ,
        "TRAINPLANE_ML_ROOT": str(root),
        "SM_NUM_CPUS": str(threads),
        "SM_CURRENT_HOST": "algo-1",
    }
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "trainplane.algorithms.linear_learner"], env=env, stdout=subprocess.DEVNULL
    )
    peak_kib = 0
    while child.poll() is None:  # the child's own high-water mark (VmHWM), sampled until it exits
        peak_kib = max(peak_kib, _vm_hwm_kib(child.pid))
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    if child.returncode != 0:
        sys.exit(f"the Linear Learner job failed with exit code {child.returncode}")
    return elapsed, peak_kib / 1024


def _vm_hwm_kib(pid: int) -> int:
    """Peak RSS of a live process. (``RUSAGE_CHILDREN`` is no good here: a child forked from this
    benchmark, which holds the data and torch, reports the parent's RSS as its own maximum.)"""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--skip-job", action="store_true")
    args = parser.parse_args()
    x, y = make_data(args.rows)
    sk = time_sklearn(x, y)
    ll = time_epoch(x, y, args.batch, args.threads)
    print(
        f"sklearn SGDClassifier 1 epoch: {sk:.2f} s; linear learner 32 models 1 epoch: {ll:.2f} s "
        f"({ll / sk:.2f}x), batch {args.batch}, SM_NUM_CPUS {args.threads}"
    )
    if not args.skip_job:
        elapsed, rss = job_rss(x, y, args.batch, args.threads)
        data_mib = x.nbytes / 2**20
        print(
            f"CSV job (1 epoch, 32 models): {elapsed:.1f} s, peak RSS {rss:.0f} MiB "
            f"= {rss / data_mib:.2f}x the "
            f"{data_mib:.0f} MiB float32 data"
        )


if __name__ == "__main__":
    main()
