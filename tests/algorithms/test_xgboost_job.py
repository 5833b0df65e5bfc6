"""End-to-end runs of the built-in XGBoost job against a root laid out like /opt/ml.

Subprocess runs (``python -m trainplane.algorithms.xgboost``) check the process contract: stdout
metric lines, exit status, failure file, SIGTERM. The rest call ``main(environ)`` in-process, which is
the same code without the interpreter start-up.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

from trainplane.algorithms.formats.recordio_protobuf import write_recordio_protobuf
from trainplane.algorithms.xgboost import checkpointing, main, metric_definitions
from trainplane.runtime.paths import MLPaths

X, Y = load_breast_cancer(return_X_y=True)
CSV_CHANNEL = {
    "ContentType": "text/csv",
    "TrainingInputMode": "File",
    "S3DistributionType": "FullyReplicated",
}
METRIC_LINE = re.compile(r"^\[(\d+)\]((?:\t(?:train|validation)-[\w@.-]+:[-+0-9.e]+)+)$")


def _write_csv(path: Path, labels: np.ndarray, features: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.column_stack([labels, features]), delimiter=",", fmt="%.6g")


def _layout(root: Path, hyperparameters: dict[str, str], *, checkpoints: bool = False) -> MLPaths:
    """A job root: breast_cancer split 400/169 into train/validation CSV channels."""
    paths = MLPaths(root).create()
    _write_csv(paths.channel("train") / "train.csv", Y[:400], X[:400])
    _write_csv(paths.channel("validation") / "validation.csv", Y[400:], X[400:])
    paths.inputdataconfig_file.write_text(json.dumps({"train": CSV_CHANNEL, "validation": CSV_CHANNEL}))
    paths.hyperparameters_file.write_text(json.dumps(hyperparameters))
    paths.resourceconfig_file.write_text(json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}))
    if checkpoints:
        config = {"LocalPath": "/opt/ml/checkpoints", "S3Uri": "s3://bucket/ckpt"}
        paths.checkpointconfig_file.write_text(json.dumps(config))
    return paths


def _environ(paths: MLPaths) -> dict[str, str]:
    return dict(
        os.environ,
        TRAINPLANE_ML_ROOT=str(paths.root),
        SM_NUM_CPUS="1",
        SM_CURRENT_HOST="algo-1",
        SM_HOSTS='["algo-1"]',
    )


def _command() -> list[str]:
    return [sys.executable, "-m", "trainplane.algorithms.xgboost"]


def _run(paths: MLPaths) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(), env=_environ(paths), capture_output=True, text=True, timeout=120)


def _metric_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("[")]


def _model(paths: MLPaths) -> xgb.Booster:
    return checkpointing.load_booster(paths.model / "xgboost-model")


BINARY = {"objective": "binary:logistic", "eval_metric": "auc,accuracy"}


@pytest.mark.slow
def test_job_prints_metric_lines_and_saves_a_native_model(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "6", **BINARY})
    result = _run(paths)
    assert result.returncode == 0, result.stderr
    lines = _metric_lines(result.stdout)
    assert [int(METRIC_LINE.match(line).group(1)) for line in lines] == list(range(6))  # type: ignore[union-attr]
    names = [field.partition(":")[0] for field in lines[0].split("\t")[1:]]
    assert names == ["train-auc", "train-accuracy", "validation-auc", "validation-accuracy"]
    model = _model(paths)
    assert model.num_boosted_rounds() == 6
    assert roc_auc_score(Y[400:], model.predict(xgb.DMatrix(X[400:]))) > 0.95
    assert not paths.failure_file.exists()


@pytest.mark.slow
def test_metric_lines_match_the_service_regexes_after_tab_escaping(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "3", **BINARY})
    last = _metric_lines(_run(paths).stdout)[-1].replace("\t", "#011")
    regexes = {d["Name"]: re.compile(d["Regex"]) for d in metric_definitions()}
    found = {name: float(rx.match(last)[1]) for name, rx in regexes.items() if rx.match(last)}  # type: ignore[index]
    assert set(found) == {"train:auc", "train:accuracy", "validation:auc", "validation:accuracy"}
    assert 0.9 < found["validation:auc"] <= 1.0


def test_early_stopping_saves_the_best_iteration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hyperparameters = {
        "num_round": "300",
        "eta": "0.6",
        "early_stopping_rounds": "5",
        "objective": "binary:logistic",
        "eval_metric": "logloss",
    }
    paths = _layout(tmp_path, hyperparameters)
    assert main(_environ(paths)) == 0
    lines = _metric_lines(capsys.readouterr().out)
    losses = [float(re.search(r"validation-logloss:(\S+)", line)[1]) for line in lines]  # type: ignore[index]
    best = int(np.argmin(losses))
    assert len(lines) == best + 6 < 300
    assert _model(paths).num_boosted_rounds() == best + 1


def test_tuning_objective_metric_drives_early_stopping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hyperparameters = {
        "num_round": "300",
        "eta": "0.6",
        "early_stopping_rounds": "4",
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "_tuning_objective_metric": "validation:auc",
    }
    paths = _layout(tmp_path, hyperparameters)
    assert main(_environ(paths)) == 0
    lines = _metric_lines(capsys.readouterr().out)
    aucs = [float(re.search(r"validation-auc:(\S+)", line)[1]) for line in lines]  # type: ignore[index]
    assert _model(paths).num_boosted_rounds() == int(np.argmax(aucs)) + 1


def test_checkpoints_keep_the_five_newest(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "8", **BINARY}, checkpoints=True)
    assert main(_environ(paths)) == 0
    names = sorted(p.name for p in paths.checkpoints.iterdir())
    assert names == [f"xgboost-checkpoint.{i}" for i in range(3, 8)]
    assert checkpointing.load_booster(paths.checkpoints / "xgboost-checkpoint.7").num_boosted_rounds() == 8


@pytest.mark.parametrize("tree_method", ["hist", "exact"])
def test_resume_trains_only_the_remaining_rounds_and_matches_an_uninterrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tree_method: str
) -> None:
    common = {"tree_method": tree_method, "subsample": "1", "seed": "7", "max_depth": "3", **BINARY}
    full = _layout(tmp_path / "full", {"num_round": "10", **common})
    assert main(_environ(full)) == 0
    resumed = _layout(tmp_path / "resumed", {"num_round": "4", **common}, checkpoints=True)
    assert main(_environ(resumed)) == 0
    capsys.readouterr()
    resumed.hyperparameters_file.write_text(json.dumps({"num_round": "10", **common}))
    assert main(_environ(resumed)) == 0
    rounds = [int(line[1 : line.index("]")]) for line in _metric_lines(capsys.readouterr().out)]
    assert rounds == list(range(4, 10))
    expected, actual = _model(full), _model(resumed)
    assert actual.num_boosted_rounds() == 10
    assert actual.get_dump(dump_format="json") == expected.get_dump(dump_format="json")
    dmatrix = xgb.DMatrix(X)
    np.testing.assert_array_equal(actual.predict(dmatrix), expected.predict(dmatrix))


@pytest.mark.slow
def test_extraneous_hyperparameter_fails_the_job_with_a_client_error(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "3", "not_a_parameter": "1"})
    result = _run(paths)
    assert result.returncode == 1
    assert paths.failure_file.read_text() == "ClientError: Extraneous hyperparameter found: not_a_parameter"
    assert "Extraneous hyperparameter found: not_a_parameter" in result.stderr
    assert not (paths.model / "xgboost-model").exists()


@pytest.mark.slow
def test_bad_data_fails_the_job_naming_the_file(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "3"})
    bad = paths.channel("train") / "train.csv"
    bad.write_text("1,0.5,0.25\n0,abc,0.5\n")
    result = _run(paths)
    assert result.returncode == 1
    failure = paths.failure_file.read_text()
    assert failure.startswith("ClientError: ") and str(bad) in failure and "abc" in failure


def test_xgboost_user_errors_are_client_errors(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "3", "objective": "binary:logistic"})
    _write_csv(paths.channel("train") / "train.csv", Y[:400] * 3, X[:400])  # labels outside [0, 1]
    assert main(_environ(paths)) == 1
    assert paths.failure_file.read_text().startswith("ClientError: ")


def test_recordio_records_without_labels_are_a_client_error(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "3"})
    (paths.channel("train") / "train.csv").unlink()
    shutil.rmtree(paths.channel("validation"))
    write_recordio_protobuf(paths.channel("train") / "train.rec", X[:50])  # features only
    config = {**CSV_CHANNEL, "ContentType": "application/x-recordio-protobuf"}
    paths.inputdataconfig_file.write_text(json.dumps({"train": config}))
    assert main(_environ(paths)) == 1
    assert paths.failure_file.read_text().startswith("ClientError: Channel 'train' has no labels")


def test_libsvm_is_the_default_content_type(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "3", **BINARY})
    for name, rows in (("train", slice(0, 400)), ("validation", slice(400, None))):
        (paths.channel(name) / f"{name}.csv").unlink()
        lines = [
            f"{y:g} " + " ".join(f"{j}:{v:g}" for j, v in enumerate(x))
            for x, y in zip(X[rows], Y[rows], strict=True)
        ]
        (paths.channel(name) / f"{name}.libsvm").write_text("\n".join(lines) + "\n")
    paths.inputdataconfig_file.write_text(json.dumps({"train": {}, "validation": {}}))
    assert main(_environ(paths)) == 0
    assert _model(paths).num_features() == 30


def test_pipe_mode_with_libsvm_is_rejected(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "3"})
    channel = {"TrainingInputMode": "Pipe"}  # no ContentType: libsvm, which has no Pipe-mode reader
    paths.inputdataconfig_file.write_text(json.dumps({"train": channel}))
    assert main(_environ(paths)) == 1
    assert paths.failure_file.read_text() == "ClientError: Pipe mode not supported for LibSVM."


@pytest.mark.slow
def test_sigterm_with_save_model_on_termination_saves_the_model(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "100000", "save_model_on_termination": "true", **BINARY})
    process = subprocess.Popen(_command(), env=_environ(paths), stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()  # first metric line: training has started
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    process.communicate(timeout=60)
    assert process.returncode == 0 and time.monotonic() - started < 30
    assert 0 < _model(paths).num_boosted_rounds() < 100000


def test_the_job_process_imports_xgboost_without_scikit_learn_yet_can_still_use_it() -> None:
    code = (
        "import sys\n"
        "import trainplane.algorithms.xgboost.library\n"
        "import xgboost.compat\n"
        "print('xgboost' in sys.modules, 'sklearn' in sys.modules, xgboost.compat.SKLEARN_INSTALLED)\n"
        "import sklearn.metrics\n"
        "print(sklearn.metrics.accuracy_score([1, 0], [1, 1]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["True False False", "0.5"]
