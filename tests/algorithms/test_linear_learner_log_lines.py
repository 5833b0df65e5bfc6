"""Linear Learner's per-model ``#metrics`` lines and ``#early_stopping_criteria_metric`` lines (§9.3)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer

from trainplane.algorithms.linear_learner import main
from trainplane.algorithms.linear_learner.metrics import early_stopping_line, model_metrics_line
from trainplane.runtime.paths import MLPaths

OBJECTIVE = "binary_classification_cross_entropy_objective"


def test_line_formats() -> None:
    line = model_metrics_line("algo-1", 2, 5, {"train_x_objective": 0.25}, 10.0, 11.5)
    body = json.loads(line.removeprefix("#metrics "))
    assert body["Dimensions"] == {
        "Algorithm": "Linear Learner",
        "Host": "algo-1",
        "Operation": "training",
        "epoch": 2,
        "model": 5,
    }
    assert body["Metrics"] == {"train_x_objective": {"sum": 0.25, "count": 1, "min": 0.25, "max": 0.25}}
    assert (body["StartTime"], body["EndTime"]) == (10.0, 11.5)
    assert early_stopping_line("algo-1", 3, "validation_loss", 0.123456789) == (
        "#early_stopping_criteria_metric: host=algo-1, epoch=3, criteria=validation_loss, value=0.123457"
    )


def run_job(tmp_path: Path, hps: dict[str, str]) -> list[str]:
    """The log of a Linear Learner job on breast_cancer, whose train and validation channels are the same."""
    x, y = load_breast_cancer(return_X_y=True)
    paths = MLPaths(tmp_path).create()
    paths.hyperparameters_file.write_text(json.dumps({"predictor_type": "binary_classifier", **hps}))
    for name in ("train", "validation"):
        paths.channel(name).mkdir(parents=True)
        np.savetxt(paths.channel(name) / "d.csv", np.column_stack([y, x]), delimiter=",", fmt="%.8g")
    paths.inputdataconfig_file.write_text(
        json.dumps({c: {"ContentType": "text/csv"} for c in ("train", "validation")})
    )
    lines: list[str] = []
    assert main({"TRAINPLANE_ML_ROOT": str(paths.root), "SM_NUM_CPUS": "1"}, log=lines.append) == 0
    return lines


def test_a_job_logs_every_model_every_epoch(tmp_path: Path) -> None:
    lines = run_job(tmp_path, {"epochs": "3", "num_models": "4", "early_stopping_patience": "9"})
    bodies = [json.loads(line.removeprefix("#metrics ")) for line in lines if line.startswith("#metrics ")]
    assert sorted((b["Dimensions"]["epoch"], b["Dimensions"]["model"]) for b in bodies) == [
        (e, m) for e in range(3) for m in range(4)
    ]
    assert all(set(b["Metrics"]) == {f"train_{OBJECTIVE}", f"validation_{OBJECTIVE}"} for b in bodies)
    stopping = [line for line in lines if line.startswith("#early_stopping_criteria_metric")]
    pattern = (
        rf"#early_stopping_criteria_metric: host=algo-1, epoch=\d, criteria=validation_{OBJECTIVE}, value=\S+"
    )
    assert len(stopping) == 3 and all(re.fullmatch(pattern, line) for line in stopping)
    # the early-stopping value is the best model's validation loss, also the epoch's quality metric
    epoch0 = [line for line in lines if line.startswith("#quality_metric: host=algo-1, epoch=0, validation")]
    assert epoch0[0].rsplit("=", 1)[1] == stopping[0].rsplit("=", 1)[1]


def stopping_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("#early_stopping_criteria_metric")]


def test_a_named_selection_criterion_is_what_early_stopping_watches(tmp_path: Path) -> None:
    """§9.3: with binary_classifier_model_selection_criteria given, early stopping watches that criterion
    on the validation data; the validation loss, which goes on improving, would train on longer."""
    hps = {"epochs": "40", "num_models": "2", "early_stopping_patience": "2"}
    by_loss = run_job(tmp_path / "loss", hps)
    by_accuracy = run_job(
        tmp_path / "accuracy", {**hps, "binary_classifier_model_selection_criteria": "accuracy"}
    )
    watched = stopping_lines(by_accuracy)
    pattern = (
        r"#early_stopping_criteria_metric: host=algo-1, epoch=\d+, criteria=sampled_accuracy, value=(\S+)"
    )
    values = [float(re.fullmatch(pattern, line).group(1)) for line in watched]  # type: ignore[union-attr]
    assert watched and all(0.5 < value <= 1.0 for value in values)
    assert any("Early stopping criteria met" in line for line in by_accuracy)
    assert len(watched) < len(stopping_lines(by_loss))
    assert all("criteria=validation_" in line for line in stopping_lines(by_loss))


def test_progress_reaches_100_once(tmp_path: Path) -> None:
    """One point per epoch; a job that ran every epoch adds no second 100 after its final metrics."""
    lines = run_job(tmp_path, {"epochs": "3", "early_stopping_patience": "9"})
    progress = [line for line in lines if line.startswith("#progress_metric")]
    assert [line.split("completed ")[1] for line in progress] == [
        "33.33 % of epochs",
        "66.67 % of epochs",
        "100 % of epochs",
    ]
