"""Built-in Linear Learner jobs through the whole machinery (CSV channels given as file:// URIs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from jobs_helpers import ROLE, channel
from trainplane import TrainPlane
from trainplane.algorithms.linear_learner import load_model

pytestmark = pytest.mark.slow
IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    with TrainPlane(environ={"TRAINPLANE_HOME": str(tmp_path / "home")}) as client:
        yield client


def test_binary_linear_learner_job_completes_and_its_model_predicts(tp: TrainPlane, tmp_path: Path) -> None:
    features, labels = load_breast_cancer(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        features, labels, test_size=0.3, random_state=0, stratify=labels
    )
    for name, x, y in (("train", x_train, y_train), ("validation", x_val, y_val)):
        (tmp_path / name).mkdir()
        np.savetxt(tmp_path / name / "data.csv", np.column_stack([y, x]), delimiter=",", fmt="%.8g")
    request = {
        "TrainingJobName": "ll-binary",
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": {"predictor_type": "binary_classifier", "epochs": "10", "mini_batch_size": "50"},
        "InputDataConfig": [
            channel("train", f"file://{tmp_path}/train/"),
            channel("validation", f"file://{tmp_path}/validation/"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"file://{tmp_path}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    tp.create_training_job(**request)
    d = tp.wait_for_training_job("ll-binary", timeout=300)
    assert d["TrainingJobStatus"] == "Completed", d.get("FailureReason")
    definitions = d["AlgorithmSpecification"]["MetricDefinitions"]
    assert 0 < len(definitions) <= 40
    final = {m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]}
    assert final["validation:binary_classification_accuracy"] > 0.93
    assert "validation:objective_loss" in final
    model = load_model(tmp_path / "output" / "ll-binary" / "output" / "model.tar.gz")
    predicted = model.predict(x_val)["predicted_label"]
    assert float(np.mean(predicted == y_val)) > 0.93
