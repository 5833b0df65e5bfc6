"""Every input format of both built-ins through the whole machinery, and bad input failing with reasons.

CSV for both algorithms and LIBSVM for XGBoost are covered by the *_through_platform tests of each
algorithm; here are the others: Parquet and RecordIO-protobuf (dense and sparse) for XGBoost, and
RecordIO-protobuf (dense, sparse) and Parquet (a trainplane extension) for Linear Learner. The jobs of
one test run side by side to keep the test short.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer

from jobs_helpers import channel, xgboost_job
from trainplane import TrainPlane
from trainplane.algorithms.formats.recordio_protobuf import write_recordio_protobuf

pytestmark = pytest.mark.slow
LL_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
RECORDIO, PARQUET, CSV = "application/x-recordio-protobuf", "application/x-parquet", "text/csv"


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home"), "TRAINPLANE_OVERSUBSCRIPTION": "8"}
    with TrainPlane(environ=environ) as client:
        yield client


def write(root: Path, part: str, x: np.ndarray, y: np.ndarray) -> str:
    """One channel directory of format ``part``; returns its file:// URI."""
    directory = root / part
    directory.mkdir(parents=True)
    if part == "parquet":
        columns = {"label": y, **{f"f{j}": x[:, j] for j in range(x.shape[1])}}
        pq.write_table(pa.table(columns), directory / "data.parquet")
    elif part == "sparse":
        write_recordio_protobuf(directory / "data.rec", sp.csr_matrix(x), y)
    else:
        write_recordio_protobuf(directory / "data.rec", x, y)
    return f"file://{directory}/"


def csv_channel(root: Path, name: str, text: str) -> str:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "data.csv").write_text(text)
    return f"file://{directory}/"


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))[:300]
    x = x[order].astype(np.float32)
    x[x < np.median(x, axis=0)] = 0.0  # half zeros: the sparse files really are sparse
    return x, y[order].astype(np.float32)


def ll_job(name: str, output: Path, channels: list[dict[str, Any]], **hps: str) -> dict[str, Any]:
    hyperparameters = {"predictor_type": "binary_classifier", "epochs": "3", "num_models": "4", **hps}
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


def test_each_format_trains_each_builtin(tp: TrainPlane, cancer: Any, tmp_path: Path) -> None:
    x, y = cancer
    uris = {part: write(tmp_path / "data", part, x, y) for part in ("parquet", "dense", "sparse")}
    xgb_hps = {"num_round": "10", "objective": "binary:logistic", "eval_metric": "error"}
    content = {"parquet": PARQUET, "dense": RECORDIO, "sparse": RECORDIO}
    requests = []
    for part, uri in uris.items():
        train = channel("train", uri, content[part])
        requests.append(xgboost_job(f"xgb-{part}", f"file://{tmp_path}", [train], xgb_hps))
        requests.append(ll_job(f"ll-{part}", tmp_path, [train]))
    done = run_all(tp, requests)
    for name, described in done.items():
        assert described["TrainingJobStatus"] == "Completed", (name, described.get("FailureReason"))
        final = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
        if name.startswith("xgb"):
            assert final["train:error"] < 0.1, name
        else:
            assert final["train:binary_classification_accuracy"] > 0.85, name


def test_bad_input_fails_the_job_naming_the_file_and_the_problem(tp: TrainPlane, tmp_path: Path) -> None:
    root = tmp_path / "data"
    good = "1,0.5,0.25\n0,0.1,0.2\n"
    cases = {
        "ll-malformed": (csv_channel(root, "malformed", good + "1,0.3\n"), {}),
        "ll-feature-dim": (csv_channel(root, "dim", good), {"feature_dim": "5"}),
        "ll-label": (csv_channel(root, "label", good + "2,0.3,0.4\n"), {}),
        "ll-empty": (csv_channel(root, "empty", ""), {}),
    }
    requests = [
        ll_job(name, tmp_path, [channel("train", uri, CSV)], **hps) for name, (uri, hps) in cases.items()
    ]
    done = run_all(tp, requests)
    reasons = {name: described.get("FailureReason", "") for name, described in done.items()}
    assert all(d["TrainingJobStatus"] == "Failed" for d in done.values()), reasons
    assert all(r.startswith("ClientError: Channel 'train'") and "data.csv" in r for r in reasons.values()), (
        reasons
    )
    assert "Expected 3 columns, got 2" in reasons["ll-malformed"]
    assert "2 features per record, expected feature_dim=5" in reasons["ll-feature-dim"]
    assert (
        "label 2.0 of record 2 is invalid; labels must be 0 or 1 for binary_classifier" in reasons["ll-label"]
    )
    assert "empty" in reasons["ll-empty"]
