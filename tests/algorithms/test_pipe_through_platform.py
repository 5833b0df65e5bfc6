"""Pipe input mode through the whole machinery: FIFOs per epoch, both built-ins, SageMaker's errors."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_breast_cancer

from jobs_helpers import channel, xgboost_job
from trainplane import TrainPlane
from trainplane.algorithms.formats.recordio_protobuf import write_recordio_protobuf

pytestmark = pytest.mark.slow
LL_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
CSV, RECORDIO = "text/csv", "application/x-recordio-protobuf"


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home"), "TRAINPLANE_OVERSUBSCRIPTION": "8"}
    with TrainPlane(environ=environ) as client:
        yield client


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pipe-data")
    x, y = load_breast_cancer(return_X_y=True)
    x, y = x[:300].astype(np.float32), y[:300].astype(np.float32)
    for part in ("csv", "rec", "parquet", "svm"):
        (root / part).mkdir()
    halves = ((0, slice(0, 150)), (1, slice(150, 300)))  # two objects: the FIFO carries both
    for i, rows in halves:
        np.savetxt(root / "csv" / f"part-{i}.csv", np.column_stack([y[rows], x[rows]]), delimiter=",")
        write_recordio_protobuf(root / "rec" / f"part-{i}.rec", x[rows], y[rows])
    columns = {"label": y, **{f"f{j}": x[:, j] for j in range(x.shape[1])}}
    pq.write_table(pa.table(columns), root / "parquet" / "data.parquet")
    (root / "svm" / "data.libsvm").write_text("1 0:1.0\n0 0:2.0\n")
    return root


def piped(name: str, uri: str, content_type: str | None) -> dict[str, Any]:
    return {**channel(name, uri, content_type), "InputMode": "Pipe"}


def ll_job(name: str, output: Path, channels: list[dict[str, Any]], epochs: int = 4) -> dict[str, Any]:
    hyperparameters = {"predictor_type": "binary_classifier", "epochs": str(epochs), "num_models": "4"}
    hyperparameters["early_stopping_patience"] = str(epochs + 1)
    return {
        **xgboost_job(name, f"file://{output}", channels, hyperparameters),
        "AlgorithmSpecification": {"TrainingImage": LL_IMAGE, "TrainingInputMode": "File"},
    }


def run_all(tp: TrainPlane, requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    for request in requests:
        tp.create_training_job(**request)
    return {
        r["TrainingJobName"]: tp.wait_for_training_job(r["TrainingJobName"], timeout=300) for r in requests
    }


def log_text(tp: TrainPlane, name: str) -> str:
    return "\n".join(event.message for event in tp.log_events(name))


def test_pipe_jobs_of_both_builtins_train_from_fifos(tp: TrainPlane, data_dir: Path, tmp_path: Path) -> None:
    d = f"file://{data_dir}"
    xgb_hps = {"num_round": "5", "objective": "binary:logistic"}
    requests = [
        ll_job("ll-csv", tmp_path, [piped("train", f"{d}/csv/", CSV)]),
        ll_job(
            "ll-rec",
            tmp_path,
            [piped("train", f"{d}/rec/", RECORDIO), piped("validation", f"{d}/rec/", None)],
        ),
        xgboost_job("xgb-csv", f"file://{tmp_path}", [piped("train", f"{d}/csv/", CSV)], xgb_hps),
        xgboost_job("xgb-rec", f"file://{tmp_path}", [piped("train", f"{d}/rec/", RECORDIO)], xgb_hps),
        xgboost_job("xgb-pq", f"file://{tmp_path}", [piped("train", f"{d}/parquet/", "parquet")], xgb_hps),
        xgboost_job("xgb-svm", f"file://{tmp_path}", [piped("train", f"{d}/svm/", "text/libsvm")], xgb_hps),
    ]
    done = run_all(tp, requests)
    for name in ("ll-csv", "ll-rec", "xgb-csv", "xgb-rec", "xgb-pq"):
        assert done[name]["TrainingJobStatus"] == "Completed", (name, done[name].get("FailureReason"))
    assert done["xgb-svm"]["TrainingJobStatus"] == "Failed"
    assert done["xgb-svm"]["FailureReason"] == "ClientError: Pipe mode not supported for LibSVM."
    # Linear Learner reads one FIFO per epoch: four epochs, each over all 300 records of both objects.
    text = log_text(tp, "ll-csv")
    assert "on 300 records" in text
    assert all(f"epoch={e}, train" in text for e in range(4))
    final = {m["MetricName"]: m["Value"] for m in done["ll-rec"]["FinalMetricDataList"]}
    assert final["validation:binary_classification_accuracy"] > 0.85


def test_a_gzip_pipe_channel_reaches_the_builtin_decompressed(
    tp: TrainPlane, data_dir: Path, tmp_path: Path
) -> None:
    zipped = tmp_path / "zipped"
    zipped.mkdir()
    for part in sorted((data_dir / "csv").iterdir()):
        (zipped / f"{part.name}.gz").write_bytes(gzip.compress(part.read_bytes()))
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "rows.csv").write_text("1,2\n")
    hyperparameters = {"num_round": "5", "objective": "binary:logistic"}
    train = {**piped("train", f"file://{zipped}/", CSV), "CompressionType": "Gzip"}
    not_gzip = {**piped("train", f"file://{tmp_path}/plain/", CSV), "CompressionType": "Gzip"}
    done = run_all(
        tp,
        [
            xgboost_job("xgb-gz", f"file://{tmp_path}", [train], hyperparameters),
            xgboost_job("xgb-not-gz", f"file://{tmp_path}", [not_gzip], hyperparameters),
        ],
    )
    assert done["xgb-gz"]["TrainingJobStatus"] == "Completed", done["xgb-gz"].get("FailureReason")
    assert "train-logloss" in log_text(tp, "xgb-gz")
    assert done["xgb-not-gz"]["TrainingJobStatus"] == "Failed"
    assert done["xgb-not-gz"]["FailureReason"] == (
        'ClientError: Object "rows.csv" of channel "train" is not gzip data, '
        "but the channel's CompressionType is Gzip"
    )
