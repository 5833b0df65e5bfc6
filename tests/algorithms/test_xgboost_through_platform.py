"""Built-in XGBoost jobs through the whole machinery, with data and artifacts on a real S3 endpoint."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from jobs_helpers import channel, xgboost_job
from trainplane import TrainPlane

pytestmark = pytest.mark.slow


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def tp(tmp_path: Path, s3_endpoint: str) -> Iterator[TrainPlane]:
    environ = {
        "TRAINPLANE_HOME": str(tmp_path / "home"),
        "TRAINPLANE_S3_ENDPOINT_URL": s3_endpoint,
        "TRAINPLANE_STOP_GRACE_SECONDS": "5",
    }
    with TrainPlane(environ=environ) as client:
        yield client


def csv_bytes(labels: np.ndarray, features: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([labels, features]), delimiter=",", fmt="%.8g")
    return buffer.getvalue().encode()


def libsvm_bytes(labels: np.ndarray, features: np.ndarray) -> bytes:
    lines = [
        f"{int(y)} " + " ".join(f"{j}:{v:.8g}" for j, v in enumerate(row) if v != 0)
        for y, row in zip(labels, features, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def cancer(s3: Any, s3_bucket: str) -> dict[str, Any]:
    features, labels = load_breast_cancer(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        features, labels, test_size=0.3, random_state=0, stratify=labels
    )
    s3.put_object(Bucket=s3_bucket, Key="csv/train/part-0.csv", Body=csv_bytes(y_train, x_train))
    s3.put_object(Bucket=s3_bucket, Key="csv/validation/part-0.csv", Body=csv_bytes(y_val, x_val))
    s3.put_object(Bucket=s3_bucket, Key="svm/train/part-0", Body=libsvm_bytes(y_train, x_train))
    return {"bucket": s3_bucket, "x_val": x_val, "y_val": y_val}


def load_model(s3: Any, uri: str) -> xgboost.Booster:
    bucket, key = uri[len("s3://") :].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.getnames() == ["xgboost-model"]
        member = tar.extractfile("xgboost-model")
        assert member is not None
        booster = xgboost.Booster()
        booster.load_model(bytearray(member.read()))
    return booster


def test_csv_job_completes_with_metrics_and_a_loadable_model(
    tp: TrainPlane, s3: Any, cancer: dict[str, Any]
) -> None:
    bucket = cancer["bucket"]
    request = xgboost_job(
        "xgb-csv",
        f"s3://{bucket}/output",
        [
            channel("train", f"s3://{bucket}/csv/train/"),
            channel("validation", f"s3://{bucket}/csv/validation/"),
        ],
        {
            "objective": "binary:logistic",
            "num_round": "200",
            "eta": "0.3",
            "early_stopping_rounds": "5",
            "eval_metric": "logloss",
        },
    )
    tp.create_training_job(**request)
    d = tp.wait_for_training_job("xgb-csv", timeout=180)
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    final = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
    assert set(final) == {"train:logloss", "validation:logloss"}
    assert final["validation:logloss"] < 0.3
    booster = load_model(s3, d["ModelArtifacts"]["S3ModelArtifacts"])
    rounds = booster.num_boosted_rounds()
    assert rounds < 200, "early stopping should have ended training early and kept the best iteration"
    predictions = booster.predict(xgboost.DMatrix(cancer["x_val"]))
    accuracy = float(np.mean((predictions > 0.5) == cancer["y_val"]))
    assert accuracy > 0.93
    lines = [e.message for e in tp.log_events("xgb-csv")]
    assert any(line.startswith("[0]\ttrain-logloss:") for line in lines)


def test_libsvm_is_the_default_content_type(tp: TrainPlane, cancer: dict[str, Any]) -> None:
    bucket = cancer["bucket"]
    request = xgboost_job(
        "xgb-svm",
        f"s3://{bucket}/output",
        [channel("train", f"s3://{bucket}/svm/train/", content_type=None)],
        {"objective": "binary:logistic", "num_round": "5"},
    )
    tp.create_training_job(**request)
    d = tp.wait_for_training_job("xgb-svm", timeout=180)
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    assert [m["MetricName"] for m in d["FinalMetricDataList"]] == ["train:logloss"]


@pytest.mark.parametrize(
    ("hyperparameters", "data", "expected"),
    [
        (
            {"num_round": "5", "colour": "blue"},
            b"1,2,3\n0,1,1\n",
            "ClientError: Extraneous hyperparameter found: colour",
        ),
        ({"num_round": "5"}, b"1,2,3\n0,abc,1\n", "part-0.csv"),
        ({"eta": "0.1"}, b"1,2,3\n", "Missing required hyperparameter: num_round"),
    ],
)
def test_bad_hyperparameters_and_data_fail_the_job_with_a_clear_reason(
    tp: TrainPlane, s3: Any, s3_bucket: str, hyperparameters: dict[str, str], data: bytes, expected: str
) -> None:
    s3.put_object(Bucket=s3_bucket, Key="bad/train/part-0.csv", Body=data)
    name = f"xgb-bad-{abs(hash(expected)) % 10_000}"
    request = xgboost_job(
        name, f"s3://{s3_bucket}/output", [channel("train", f"s3://{s3_bucket}/bad/train/")], hyperparameters
    )
    tp.create_training_job(**request)
    d = tp.wait_for_training_job(name, timeout=120)
    assert d["TrainingJobStatus"] == "Failed"
    assert expected in d["FailureReason"]


def test_an_empty_channel_prefix_fails_with_sagemakers_message(tp: TrainPlane, s3_bucket: str) -> None:
    request = xgboost_job(
        "xgb-empty",
        f"s3://{s3_bucket}/output",
        [channel("train", f"s3://{s3_bucket}/nothing-here/")],
        {"num_round": "5"},
    )
    tp.create_training_job(**request)
    d = tp.wait_for_training_job("xgb-empty", timeout=120)
    assert d["TrainingJobStatus"] == "Failed"
    assert d["FailureReason"].startswith('ClientError: No S3 objects found under S3 URL "s3://')
