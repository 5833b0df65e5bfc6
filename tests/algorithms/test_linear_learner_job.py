"""Linear Learner jobs end to end, in process: quality on sklearn's data sets, metric lines, artifacts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

from trainplane.algorithms.formats.recordio_protobuf import write_recordio_protobuf
from trainplane.algorithms.linear_learner import load_model, main, metric_definitions, metric_direction
from trainplane.runtime.paths import MLPaths

RECORDIO = "application/x-recordio-protobuf"


def make_root(
    root: Path, hps: dict[str, str], channels: dict[str, tuple[Any, Any]], csv: bool = False
) -> MLPaths:
    paths = MLPaths(root).create()
    paths.hyperparameters_file.write_text(json.dumps(hps))
    config = {}
    for name, (x, y) in channels.items():
        paths.channel(name).mkdir(parents=True, exist_ok=True)
        if csv:
            np.savetxt(paths.channel(name) / "data.csv", np.column_stack([y, x]), delimiter=",", fmt="%.8g")
        else:
            write_recordio_protobuf(paths.channel(name) / "data.rec", x, y)
        config[name] = {"ContentType": "text/csv" if csv else RECORDIO}
    paths.inputdataconfig_file.write_text(json.dumps(config))
    return paths


def run(paths: MLPaths) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = main({"TRAINPLANE_ML_ROOT": str(paths.root), "SM_NUM_CPUS": "1"}, log=lines.append)
    return code, lines


def split(loader: Any) -> tuple[np.ndarray, ...]:
    x, y = loader(return_X_y=True)
    return tuple(a.astype(np.float32) for a in train_test_split(x, y, test_size=0.3, random_state=0))


@pytest.fixture(scope="module")
def binary_job(tmp_path_factory: pytest.TempPathFactory) -> tuple[MLPaths, list[str], tuple[np.ndarray, ...]]:
    xt, xs, yt, ys = split(load_breast_cancer)
    hps = {"predictor_type": "binary_classifier", "epochs": "8", "mini_batch_size": "64"}
    paths = make_root(
        tmp_path_factory.mktemp("bc"), hps, {"train": (xt, yt), "validation": (xs, ys), "test": (xs, ys)}
    )
    code, lines = run(paths)
    assert code == 0, paths.failure_file.read_text() if paths.failure_file.exists() else lines
    return paths, lines, (xt, xs, yt, ys)


def test_binary_classifier_reaches_sklearn_quality(binary_job: Any) -> None:
    paths, _, (_, xs, _, ys) = binary_job
    model = load_model(paths.model)
    prediction = model.predict(xs)
    assert np.mean(prediction["predicted_label"] == ys) >= 0.93
    assert prediction["score"].min() >= 0 and prediction["score"].max() <= 1  # logistic: probabilities


def test_metric_lines_match_the_service_regexes(binary_job: Any) -> None:
    _, lines, _ = binary_job
    text = "\n".join(lines)
    found = {}
    for definition in metric_definitions("binary_classifier"):
        values = re.findall(definition["Regex"], text)
        if values:
            found[definition["Name"]] = [float(v) for v in values]
    assert len(found["train:objective_loss"]) == len(found["validation:objective_loss"]) >= 1
    for name in (
        "train:objective_loss:final",
        "validation:objective_loss:final",
        "test:objective_loss",
        "validation:binary_f_beta",
        "validation:roc_auc_score",
        "test:recall",
    ):
        assert len(found[name]) == 1, name
    assert found["train:throughput"] and min(found["train:throughput"]) > 0
    assert found["train:progress"][-1] == 100
    assert found["train:progress"].count(100) == 1
    assert any(
        line.startswith("#quality_metric: host=algo-1, validation binary_f_1.000 <score>=") for line in lines
    )
    assert re.search(
        r"^#quality_metric: host=algo-1, epoch=0, train binary_classification_cross_entropy_objective "
        r"<loss>=\S+$",
        text,
        re.M,
    )
    assert metric_direction("validation:binary_f_beta") == "Maximize"
    assert metric_direction("test:objective_loss") == "Minimize" and metric_direction("rmse") == "Minimize"


def test_load_model_from_tarball_matches_directory(binary_job: Any, tmp_path: Path) -> None:
    paths, _, (_, xs, _, _) = binary_job
    tarball = tmp_path / "model.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(paths.model / "model_algo-1", arcname="model_algo-1")
    a, b = load_model(tarball), load_model(paths.model)
    np.testing.assert_array_equal(a.predict(xs)["score"], b.predict(xs)["score"])
    assert a.predictor_type == "binary_classifier" and a.num_features == xs.shape[1]


def test_multiclass_classifier_on_digits(tmp_path: Path) -> None:
    xt, xs, yt, ys = split(load_digits)
    hps = {
        "predictor_type": "multiclass_classifier",
        "num_classes": "10",
        "epochs": "6",
        "mini_batch_size": "64",
    }
    paths = make_root(tmp_path, hps, {"train": (xt, yt), "validation": (xs, ys)})
    code, lines = run(paths)
    assert code == 0
    prediction = load_model(paths.model).predict(xs)
    assert np.mean(prediction["predicted_label"] == ys) >= 0.92
    assert prediction["score"].shape == (len(xs), 10)
    assert any(
        re.match(r"#quality_metric: host=algo-1, validation multiclass_top_k_accuracy_3 <score>=", x)
        for x in lines
    )
    assert any(x.startswith("#quality_metric: host=algo-1, validation dcg <score>=") for x in lines)


def test_regressor_on_diabetes_from_csv(tmp_path: Path) -> None:
    xt, xs, yt, ys = split(load_diabetes)
    hps = {"predictor_type": "regressor", "epochs": "15", "mini_batch_size": "32"}
    paths = make_root(tmp_path, hps, {"train": (xt, yt), "validation": (xs, ys)}, csv=True)
    code, lines = run(paths)
    assert code == 0
    mse = float(np.mean((load_model(paths.model).predict(xs)["score"] - ys) ** 2))
    reference = float(np.mean((LinearRegression().fit(xt, yt).predict(xs) - ys) ** 2))
    assert mse <= 1.15 * reference
    reported = [
        float(x.rsplit("=", 1)[1])
        for x in lines
        if x.startswith("#quality_metric: host=algo-1, validation mse")
    ]
    assert reported == [pytest.approx(mse, rel=1e-3)]


@pytest.mark.parametrize(
    "loss",
    [
        "absolute_loss",
        "huber_loss",
        "quantile_loss",
        "eps_insensitive_squared_loss",
        "eps_insensitive_absolute_loss",
    ],
)
def test_every_regression_loss_trains(tmp_path: Path, loss: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 5)).astype(np.float32)
    y = (x @ np.arange(1, 6) + 10).astype(np.float32)
    hps = {
        "predictor_type": "regressor",
        "loss": loss,
        "epochs": "10",
        "mini_batch_size": "20",
        "num_models": "4",
    }
    paths = make_root(tmp_path, hps, {"train": (x, y)})
    assert run(paths)[0] == 0
    prediction = load_model(paths.model).predict(x)["score"]
    assert np.mean(np.abs(prediction - y)) < 1.0


def test_hinge_loss_and_selection_criteria(tmp_path: Path) -> None:
    xt, xs, yt, ys = split(load_breast_cancer)
    hps = {
        "predictor_type": "binary_classifier",
        "loss": "hinge_loss",
        "epochs": "5",
        "mini_batch_size": "64",
        "num_models": "4",
        "binary_classifier_model_selection_criteria": "precision_at_target_recall",
        "target_recall": "0.9",
        "positive_example_weight_mult": "balanced",
    }
    paths = make_root(tmp_path, hps, {"train": (xt, yt), "validation": (xs, ys)})
    assert run(paths)[0] == 0
    prediction = load_model(paths.model).predict(xs)
    recall = np.sum((prediction["predicted_label"] == 1) & (ys == 1)) / np.sum(ys == 1)
    assert recall >= 0.9


@pytest.mark.slow
def test_module_entry_point_runs_a_job(binary_job: Any, tmp_path: Path) -> None:
    _, _, (xt, _, yt, _) = binary_job
    paths = make_root(tmp_path, {"predictor_type": "binary_classifier", "epochs": "2"}, {"train": (xt, yt)})
    env = {
        "TRAINPLANE_ML_ROOT": str(paths.root),
        "SM_NUM_CPUS": "1",
        "SM_CURRENT_HOST": "algo-1",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "trainplane.algorithms.linear_learner"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "#progress_metric: host=algo-1, completed 100 % of epochs" in done.stdout
    assert (paths.model / "model_algo-1").exists()
