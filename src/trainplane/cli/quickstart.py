"""``trainplane quickstart``: the README's main job, end to end.

Writes scikit-learn's bundled breast-cancer data as train/validation CSVs (label first, no header) into the
object store, runs SageMaker's built-in XGBoost on it through the whole machinery, then loads
``xgboost-model`` from model.tar.gz with plain xgboost and scores the held-out test split.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from trainplane.client import TrainPlane

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
BUCKET = "trainplane-quickstart"


def _csv(labels: np.ndarray, features: np.ndarray) -> bytes:
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([labels, features]), delimiter=",", fmt="%.10g")
    return buffer.getvalue().encode()


def prepare_data(client: TrainPlane, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Upload train and validation CSVs; return the held-out test split."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    from trainplane.storage import open_storage

    features, labels = load_breast_cancer(return_X_y=True)
    x_rest, x_test, y_rest, y_test = train_test_split(
        features, labels, test_size=0.2, random_state=0, stratify=labels
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.25, random_state=0, stratify=y_rest
    )
    storage = open_storage(client.settings.local_s3_root, client.settings.s3_endpoint_url)
    storage.ensure_bucket(BUCKET)
    storage.write_bytes(_csv(y_train, x_train), f"s3://{BUCKET}/{prefix}/train/train.csv")
    storage.write_bytes(_csv(y_val, x_val), f"s3://{BUCKET}/{prefix}/validation/validation.csv")
    return x_test, y_test


def quickstart_request(name: str, prefix: str, rounds: int) -> dict[str, Any]:
    def channel(channel_name: str) -> dict[str, Any]:
        return {
            "ChannelName": channel_name,
            "ContentType": "text/csv",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{BUCKET}/{prefix}/{channel_name}/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }

    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": {
            "objective": "binary:logistic",
            "num_round": str(rounds),
            "eta": "0.1",
            "max_depth": "4",
            "eval_metric": "auc",
            "early_stopping_rounds": "20",
        },
        "InputDataConfig": [channel("train"), channel("validation")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/{prefix}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def score_model(
    client: TrainPlane, model_uri: str, x_test: np.ndarray, y_test: np.ndarray
) -> dict[str, float]:
    import xgboost
    from sklearn.metrics import accuracy_score, roc_auc_score

    from trainplane.storage import open_storage

    storage = open_storage(client.settings.local_s3_root, client.settings.s3_endpoint_url)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "model.tar.gz"
        storage.download_file(model_uri, archive)
        with tarfile.open(archive) as tar:
            tar.extractall(scratch, filter="data")
        # Loading from bytes lets xgboost detect the format itself (the file name has no extension).
        booster = xgboost.Booster()
        booster.load_model(bytearray((Path(scratch) / "xgboost-model").read_bytes()))
    probabilities = booster.predict(xgboost.DMatrix(x_test))
    return {
        "accuracy": float(accuracy_score(y_test, probabilities > 0.5)),
        "auc": float(roc_auc_score(y_test, probabilities)),
    }


def run_quickstart(client: TrainPlane, rounds: int = 100) -> int:
    from trainplane.cli.main import run_in_foreground

    name = f"quickstart-xgboost-{time.strftime('%Y%m%d-%H%M%S')}"
    print(
        f"Writing breast-cancer train/validation CSVs to s3://{BUCKET}/{name}/ (home: {client.settings.home})"
    )
    x_test, y_test = prepare_data(client, name)
    code = run_in_foreground(client, quickstart_request(name, name, rounds))
    if code != 0:
        return code
    model_uri = client.describe_training_job(TrainingJobName=name)["ModelArtifacts"]["S3ModelArtifacts"]
    scores = score_model(client, model_uri, x_test, y_test)
    print(
        f"Held-out test set ({len(y_test)} rows): accuracy {scores['accuracy']:.4f}, AUC {scores['auc']:.4f} "
        "(model loaded from model.tar.gz with plain xgboost)"
    )
    return 0
