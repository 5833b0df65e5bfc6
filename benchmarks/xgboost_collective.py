"""XGBoost's own scaling from 1 to 2 processes, outside trainplane: the ceiling for `scaling.py`.

    .venv/bin/python benchmarks/xgboost_collective.py [--rows 2000000] [--rounds 50] [--spinner-ms 0,4.5]

The same data and parameters as `scaling.py`'s XGBoost job (16 features on a 0.05 grid, hist,
max_depth 6, one thread per process), trained with plain ``xgboost.train`` in-process: once by one
process on all rows, once by two ranks on half the rows each over XGBoost's own collective (a
``RabitTracker`` on loopback). Per-round time is the mean between the first and last rounds' callbacks,
so start-up, reading and the quantile sketch are left out. Per-round efficiency = t1 / (2 x t2).

``--spinner-ms`` adds a third process that spins that many milliseconds every 50 ms (0 = none), the way a
control plane ticking at 20 Hz takes CPU from the cores the ranks run on. Two cores are the whole
machine: run it with nothing else busy.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from multiprocessing.queues import Queue
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

GRID = 0.05  # as scaling.py: exact histogram cuts on one process and on two
PARAMS = {"max_depth": 6, "eta": 0.3, "nthread": 1, "tree_method": "hist", "objective": "reg:squarederror"}
HEADER = "| spinner | 1 process, ms/round | 2 ranks, ms/round | per-round efficiency | rmse 1 / 2 |"


def make_data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = (np.round(rng.normal(size=(rows, 16)) / GRID) * GRID).astype(np.float32)
    y = x[:, :8].sum(axis=1) + np.sin(3 * x[:, 8]) * x[:, 9] + rng.normal(scale=0.1, size=rows)
    return x, y.astype(np.float32)


def train(
    x: np.ndarray, y: np.ndarray, valid: tuple[np.ndarray, np.ndarray], rounds: int
) -> tuple[float, float]:
    """(mean seconds per round after the first, final validation rmse)."""
    import xgboost as xgb

    stamps: list[float] = []

    class Stamp(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            stamps.append(time.perf_counter())
            return False

    train_matrix = xgb.DMatrix(x, label=y, nthread=1)
    valid_matrix = xgb.DMatrix(valid[0], label=valid[1], nthread=1)
    result: dict[str, Any] = {}
    evals = [(train_matrix, "train"), (valid_matrix, "validation")]
    xgb.train(PARAMS, train_matrix, rounds, evals=evals, evals_result=result, verbose_eval=False,
              callbacks=[Stamp()])  # fmt: skip
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1), float(result["validation"]["rmse"][-1])


def _single(x: np.ndarray, y: np.ndarray, valid: Any, rounds: int, out: Queue) -> None:
    out.put(train(x, y, valid, rounds))


def _rank(rank: int, port: int, x: np.ndarray, y: np.ndarray, valid: Any, rounds: int, out: Queue) -> None:
    from xgboost import collective

    with collective.CommunicatorContext(
        dmlc_tracker_uri="127.0.0.1", dmlc_tracker_port=port, dmlc_task_id=f"rank-{rank}"
    ):
        out.put(train(x, y, valid, rounds))


def _spin(busy_ms: float, stop: Any) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        while time.perf_counter() - start < busy_ms / 1000:
            pass
        time.sleep(max(0.0, 0.05 - busy_ms / 1000))


def measure(x: np.ndarray, y: np.ndarray, valid: Any, rounds: int, spinner_ms: float) -> str:
    from xgboost.tracker import RabitTracker

    ctx = mp.get_context("fork")
    out: Queue = ctx.Queue()
    stop = ctx.Event()
    spinner = ctx.Process(target=_spin, args=(spinner_ms, stop)) if spinner_ms > 0 else None
    if spinner is not None:
        spinner.start()
    try:
        single = ctx.Process(target=_single, args=(x, y, valid, rounds, out))
        single.start()
        single.join()
        t1, rmse1 = out.get()
        tracker = RabitTracker(n_workers=2, host_ip="127.0.0.1", port=0, sortby="task")
        tracker.start()
        port = int(tracker.worker_args()["dmlc_tracker_port"])
        ranks = [
            ctx.Process(target=_rank, args=(r, port, x[r::2], y[r::2], valid, rounds, out)) for r in (0, 1)
        ]
        for process in ranks:
            process.start()
        for process in ranks:
            process.join()
        results = [out.get(), out.get()]
        t2, rmse2 = max(t for t, _ in results), results[0][1]
    finally:
        stop.set()
        if spinner is not None:
            spinner.join()
    label = f"{spinner_ms:g} ms / 50 ms" if spinner_ms > 0 else "none"
    print(f"spinner {label}: 1 process {t1 * 1e3:.1f} ms/round, 2 ranks {t2 * 1e3:.1f} ms/round", flush=True)
    return f"| {label} | {t1 * 1e3:.1f} | {t2 * 1e3:.1f} | {t1 / (2 * t2):.3f} | {rmse1:.6f} / {rmse2:.6f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--spinner-ms", default="0,4.5", help="comma-separated; 0 = no spinner")
    args = parser.parse_args()
    x, y = make_data(args.rows, 0)
    valid = make_data(100_000, 1)
    rows = [HEADER, "|---|---|---|---|---|"]
    rows += [measure(x, y, valid, args.rounds, float(ms)) for ms in args.spinner_ms.split(",")]
    print(f"rows={args.rows} rounds={args.rounds}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
