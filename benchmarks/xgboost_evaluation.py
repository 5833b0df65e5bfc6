"""What per-round evaluation costs XGBoost on one core, and what evaluating half the validation saves.

    .venv/bin/python benchmarks/xgboost_evaluation.py [--rows 1000000] [--valid-rows 100000] [--rounds 30]

One host's share of `scaling.py`'s 2-host XGBoost job (1M of the 2M rows, the same 16 grid features
and parameters, one thread, pinned to one core), trained with plain ``xgboost.train`` while it
evaluates: nothing, the train set, train + the whole validation channel (what each host did when a
FullyReplicated channel was evaluated whole), train + half of it (each host's share with
``algorithms/xgboost/validation_split.py``). Per-round time is the mean between the first and last
rounds' callbacks; each variant is run twice, in alternating order, and the faster run is kept.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
from xgboost_collective import PARAMS, make_data

VARIANTS = ("none", "train", "train + all validation", "train + half validation")


def per_round_ms(evals: list[tuple[Any, str]], train_matrix: Any, rounds: int) -> float:
    import xgboost as xgb

    stamps: list[float] = []

    class Stamp(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            stamps.append(time.perf_counter())
            return False

    xgb.train(PARAMS, train_matrix, rounds, evals=evals, verbose_eval=False, callbacks=[Stamp()])
    return 1e3 * (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def main() -> None:
    import xgboost as xgb

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--valid-rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    x, y = make_data(args.rows, 0)
    vx, vy = make_data(args.valid_rows, 1)
    half = args.valid_rows // 2
    best: dict[str, float] = {}
    for order in (VARIANTS, VARIANTS[::-1]):
        for variant in order:
            train_matrix = xgb.DMatrix(x, label=y, nthread=1)
            evals = {
                "none": [],
                "train": [(train_matrix, "train")],
                "train + all validation": [(train_matrix, "train"), (xgb.DMatrix(vx, vy, nthread=1), "v")],
                "train + half validation": [
                    (train_matrix, "train"),
                    (xgb.DMatrix(vx[:half], vy[:half], nthread=1), "v"),
                ],
            }[variant]
            ms = per_round_ms(evals, train_matrix, args.rounds)
            best[variant] = min(best.get(variant, np.inf), ms)
            print(f"{variant}: {ms:.1f} ms/round", flush=True)
    print(f"rows={args.rows} valid_rows={args.valid_rows} rounds={args.rounds}, one core, nthread=1")
    print("| evaluates | ms/round | vs none |")
    print("|---|---|---|")
    for variant in VARIANTS:
        print(f"| {variant} | {best[variant]:.1f} | +{best[variant] - best['none']:.1f} |")


if __name__ == "__main__":
    main()
