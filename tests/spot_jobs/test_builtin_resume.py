"""Built-in XGBoost and Linear Learner under scripted spot interruptions resume from their checkpoints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from jobs_helpers import ROLE, XGBOOST_IMAGE, channel
from trainplane import TrainPlane
from trainplane.cli.spot import spot_test

pytestmark = pytest.mark.slow
LINEAR_LEARNER_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home"), "TRAINPLANE_SPOT_NOTICE_SECONDS": "3"}
    with TrainPlane(environ=environ) as client:
        yield client


def builtin_request(tmp_path: Path, name: str, image: str, hyperparameters: dict[str, str]) -> dict[str, Any]:
    features, labels = load_breast_cancer(return_X_y=True)
    (tmp_path / "train").mkdir(exist_ok=True)
    np.savetxt(
        tmp_path / "train" / "data.csv", np.column_stack([labels, features]), delimiter=",", fmt="%.8g"
    )
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters,
        "InputDataConfig": [channel("train", f"file://{tmp_path}/train/")],
        "OutputDataConfig": {"S3OutputPath": f"file://{tmp_path}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "CheckpointConfig": {"S3Uri": "s3://spot-checkpoints/builtin"},
    }


def test_xgboost_resumes_and_trains_only_the_remaining_rounds(tp: TrainPlane, tmp_path: Path) -> None:
    # Rounds take milliseconds: the interruptions are spaced so that each lands well before the job
    # could finish (a notice reaches the job one reconciler tick after the step is logged).
    hps = {"num_round": "300", "objective": "binary:logistic", "max_depth": "3", "eta": "0.3"}
    request = builtin_request(tmp_path, "xgb", XGBOOST_IMAGE, hps)
    report = spot_test(tp, request, 0, {"type": "schedule", "at_steps": [60, 160]})
    spot, base = report["spot"], report["uninterrupted"]
    assert report["resumed"], report
    assert spot["status"] == base["status"] == "Completed"
    assert [a["status"] for a in spot["attempts"]] == ["interrupted", "interrupted", "succeeded"]
    # Rounds are checkpointed every round: at most the round in progress is trained again.
    assert all(r is not None and r <= 1 for r in report["redone_steps"])
    assert spot["attempts"][-1]["last_step"] == 300
    assert spot["final_metrics"] == base["final_metrics"]  # same seed, same model


def test_linear_learner_resumes_from_its_epoch_checkpoint(tp: TrainPlane, tmp_path: Path) -> None:
    # An epoch here takes a few milliseconds: enough epochs after the interrupted one that the notice
    # (one reconciler tick after "epoch=10" is logged) lands before the job could finish, under load too.
    hps = {
        "predictor_type": "binary_classifier",
        "epochs": "300",
        "mini_batch_size": "100",
        "num_models": "2",
        "early_stopping_patience": "1000",
    }
    request = builtin_request(tmp_path, "ll", LINEAR_LEARNER_IMAGE, hps)
    report = spot_test(tp, request, 0, {"type": "schedule", "at_steps": [10]})
    spot = report["spot"]
    assert report["resumed"], report
    assert [a["status"] for a in spot["attempts"]] == ["interrupted", "succeeded"]
    assert report["redone_steps"][0] is not None and report["redone_steps"][0] <= 1
