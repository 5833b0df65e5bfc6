"""Linear Learner quality vs scikit-learn on bundled data sets with fixed splits.

    .venv/bin/python benchmarks/linear_learner_quality.py

Each data set is split 70/30 five times (``train_test_split(random_state=0..4)``, stratified for
classifiers) and the scores are averaged over the five splits. Linear
Learner runs as a real job (``python -m``-equivalent ``main`` under a temporary /opt/ml root) on the
training part, with the hyperparameters below and everything else default; its saved model is scored on
the held-out part. The peers, fitted on the same training part, are scikit-learn's standardised
``LogisticRegression`` (binary, multiclass) and ``Ridge`` (regression), default regularisation.
Goals: accuracy within 1 point of the peer; RMSE within 2 %.

Both sides are L2-regularised: the peers by their defaults (``C=1``, ``alpha=1``), Linear Learner by
``wd=0.001`` (its default is no weight decay); about the same per-example penalty on these data set sizes.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from trainplane.algorithms.linear_learner import load_model, main
from trainplane.runtime.paths import MLPaths

CASES: dict[str, dict[str, Any]] = {
    "breast_cancer (binary)": {
        "loader": load_breast_cancer,
        "hps": {"predictor_type": "binary_classifier"},
        "peer": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
    },
    "digits (multiclass)": {
        "loader": load_digits,
        "hps": {"predictor_type": "multiclass_classifier", "num_classes": "10"},
        "peer": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
    },
    "diabetes (regression)": {
        "loader": load_diabetes,
        "hps": {"predictor_type": "regressor"},
        "peer": lambda: make_pipeline(StandardScaler(), Ridge()),
    },
}
COMMON_HPS = {"epochs": "30", "mini_batch_size": "32", "wd": "0.001"}
SEEDS = range(5)  # five fixed splits; the table shows the means (test sets are small: 133-540 rows)


def run_linear_learner(hps: dict[str, str], x: np.ndarray, y: np.ndarray) -> tuple[Any, float]:
    with tempfile.TemporaryDirectory(prefix="ll-quality-") as root:
        paths = MLPaths(Path(root)).create()
        paths.hyperparameters_file.write_text(json.dumps({**COMMON_HPS, **hps}))
        paths.channel("train").mkdir(parents=True)
        np.savetxt(paths.channel("train") / "train.csv", np.column_stack([y, x]), delimiter=",", fmt="%.9g")
        paths.inputdataconfig_file.write_text(json.dumps({"train": {"ContentType": "text/csv"}}))
        start = time.perf_counter()
        code = main({"TRAINPLANE_ML_ROOT": root, "SM_NUM_CPUS": "1"}, log=lambda _line: None)
        elapsed = time.perf_counter() - start
        if code != 0:
            sys.exit(f"Linear Learner job failed: {paths.failure_file.read_text()}")
        return load_model(paths.model), elapsed


def score(regression: bool, predicted: np.ndarray, y: np.ndarray) -> float:
    if regression:
        return float(np.sqrt(np.mean((predicted - y) ** 2)))
    return float(np.mean(predicted == y))


def main_benchmark() -> None:
    header = (
        f"{'data set':<24} {'metric':<9} {'linear-learner':>14} {'scikit-learn':>13} {'gap':>9} {'goal':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, case in CASES.items():
        x, y = case["loader"](return_X_y=True)
        regression = case["hps"]["predictor_type"] == "regressor"
        ours, theirs = [], []
        for seed in SEEDS:
            split = train_test_split(
                x, y, test_size=0.3, random_state=seed, stratify=None if regression else y
            )
            x_train, x_test, y_train, y_test = (a.astype(np.float32) for a in split)
            model, _ = run_linear_learner(case["hps"], x_train, y_train)
            out = model.predict(x_test)
            ours.append(score(regression, out["score"] if regression else out["predicted_label"], y_test))
            peer = case["peer"]().fit(x_train, y_train)
            theirs.append(score(regression, peer.predict(x_test), y_test))
        a, b = float(np.mean(ours)), float(np.mean(theirs))
        if regression:
            gap, goal, ok = f"{100 * (a / b - 1):+.2f}%", "<= +2%", a <= b * 1.02
        else:
            gap, goal, ok = f"{100 * (a - b):+.2f}pt", ">= -1pt", a >= b - 0.01
        metric = "RMSE" if regression else "accuracy"
        print(f"{name:<24} {metric:<9} {a:>14.4f} {b:>13.4f} {gap:>9} {goal:>6} {'ok' if ok else 'MISS'}")


if __name__ == "__main__":
    main_benchmark()
