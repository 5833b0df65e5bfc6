"""Requests SageMaker accepts but trainplane cannot run are refused at CreateTrainingJob, with nothing
stored, rather than failing at run time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs_helpers import channel, script_job, xgboost_job
from trainplane import TrainPlane, ValidationError

CUSTOM_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:latest"


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    with TrainPlane(environ={"TRAINPLANE_HOME": str(tmp_path / "home")}, run_jobs=False) as client:
        yield client


def _efs(request: dict[str, Any]) -> None:
    request["InputDataConfig"] = [
        {
            "ChannelName": "train",
            "DataSource": {
                "FileSystemDataSource": {
                    "FileSystemId": "fs-12345678",
                    "FileSystemType": "EFS",
                    "FileSystemAccessMode": "ro",
                    "DirectoryPath": "/data",
                }
            },
        }
    ]


def _augmented(request: dict[str, Any]) -> None:
    train = channel("train", "s3://bucket/manifest")
    train["DataSource"]["S3DataSource"].update(S3DataType="AugmentedManifestFile", AttributeNames=["a"])
    request["InputDataConfig"], request["AlgorithmSpecification"]["TrainingInputMode"] = [train], "Pipe"


def _mpi(request: dict[str, Any]) -> None:
    request["HyperParameters"]["sagemaker_mpi_enabled"] = "true"
    request["HyperParameters"]["sagemaker_mpi_num_of_processes_per_host"] = "2"


def _multi_worker_mirrored(request: dict[str, Any]) -> None:
    request["HyperParameters"]["sagemaker_multi_worker_mirrored_strategy_enabled"] = "true"


def _custom_image(request: dict[str, Any]) -> None:
    request["HyperParameters"] = {}
    request["AlgorithmSpecification"]["TrainingImage"] = CUSTOM_IMAGE


def _arguments_only(request: dict[str, Any]) -> None:
    _custom_image(request)
    request["AlgorithmSpecification"]["ContainerArguments"] = ["--epochs", "2"]


CASES: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (_efs, "Channel 'train': trainplane does not support FileSystemDataSource; use S3DataSource."),
    (_augmented, "Channel 'train': trainplane does not support S3DataType AugmentedManifestFile"),
    (_mpi, "trainplane does not run MPI (distribution 'mpi'): hyperparameter sagemaker_mpi_enabled is true"),
    (
        _multi_worker_mirrored,
        "trainplane does not run TensorFlow's MultiWorkerMirroredStrategy (distribution "
        "'multi_worker_mirrored_strategy'; no TF_CONFIG is set)",
    ),
    (_custom_image, f"The training image {CUSTOM_IMAGE} cannot be run by trainplane"),
    (_arguments_only, "ContainerArguments without ContainerEntrypoint need the image's own entry point"),
]


@pytest.mark.parametrize(("change", "message"), CASES, ids=[c.__name__.strip("_") for c, _ in CASES])
def test_a_request_trainplane_cannot_run_is_refused_at_creation(
    tp: TrainPlane, tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    request = script_job("refused", tmp_path, "print(1)")
    change(request)
    with pytest.raises(ValidationError) as raised:
        tp.create_training_job(**request)
    assert raised.value.message.startswith(message), raised.value.message
    assert tp.list_training_jobs()["TrainingJobSummaries"] == []


def test_what_trainplane_runs_is_still_accepted(tp: TrainPlane, tmp_path: Path) -> None:
    command = script_job("command", tmp_path, "print(1)")
    _custom_image(command)
    command["AlgorithmSpecification"]["ContainerEntrypoint"] = ["python3", "-c", "print(1)"]
    builtin = xgboost_job(
        "builtin", "s3://bucket/out", [channel("train", "s3://bucket/train/")], {"num_round": "2"}
    )
    manifest = script_job(
        "manifest", tmp_path, "print(1)", hyperparameters={"sagemaker_mpi_enabled": "false"}
    )
    manifest["InputDataConfig"] = [channel("train", "s3://bucket/manifest.json")]
    manifest["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] = "ManifestFile"
    for request in (command, builtin, manifest):
        tp.create_training_job(**request)
    assert len(tp.list_training_jobs()["TrainingJobSummaries"]) == 3
