"""Semantic CreateTrainingJob rules (reference §3.10 items 2-6, §10.1), one test per rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from minimal_request import MINIMAL

from trainplane.errors import ValidationError
from trainplane.service.training_rules import check_create_training_job
from trainplane.service.validation import validate_input

S3_SOURCE = {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/more/"}}
EFS_SOURCE = {
    "FileSystemDataSource": {
        "FileSystemId": "fs-0123456789",
        "FileSystemAccessMode": "ro",
        "FileSystemType": "EFS",
        "DirectoryPath": "/data/train",
    }
}


def body() -> dict[str, Any]:
    return copy.deepcopy(MINIMAL)


def rejected(request: dict[str, Any]) -> str:
    # Every request here passes shape validation, so each failure is the semantic rule under test.
    checked = validate_input("CreateTrainingJob", request)
    with pytest.raises(ValidationError) as caught:
        check_create_training_job(checked)
    return caught.value.message


def accepted(request: dict[str, Any]) -> None:
    check_create_training_job(validate_input("CreateTrainingJob", request))


def test_minimal_request_passes() -> None:
    accepted(body())


def test_serverless_era_optional_members_are_required() -> None:
    request = body()
    del request["ResourceConfig"], request["StoppingCondition"]
    assert rejected(request) == (
        "2 validation errors detected: Value null at 'resourceConfig' failed to satisfy constraint: Member "
        "must not be null; Value null at 'stoppingCondition' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_missing_algorithm_specification() -> None:
    request = body()
    del request["AlgorithmSpecification"]
    assert "Value null at 'algorithmSpecification'" in rejected(request)


def test_training_image_and_algorithm_name_together() -> None:
    request = body()
    request["AlgorithmSpecification"]["AlgorithmName"] = "my-algorithm"
    assert "Cannot specify both TrainingImage and AlgorithmName" in rejected(request)


def test_neither_training_image_nor_algorithm_name() -> None:
    request = body()
    del request["AlgorithmSpecification"]["TrainingImage"]
    assert rejected(request).startswith("Either TrainingImage or AlgorithmName must be specified")


@pytest.mark.parametrize(
    ("regex", "problem"),
    [("loss=((", "is not a valid regular expression"), ("loss=[0-9.]+", "has no capture group")],
)
def test_a_metric_regex_that_cannot_capture_a_value_is_rejected(regex: str, problem: str) -> None:
    request = body()
    request["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "train:loss", "Regex": "loss=([0-9.]+)"},
        {"Name": "validation:loss", "Regex": regex},
    ]
    message = rejected(request)
    assert message.startswith("Invalid MetricDefinitions. The Regex of metric 'validation:loss' ")
    assert problem in message


def test_algorithm_name_alone_is_not_supported() -> None:
    request = body()
    request["AlgorithmSpecification"] = {"AlgorithmName": "my-algorithm", "TrainingInputMode": "File"}
    message = rejected(request)
    assert "AlgorithmName 'my-algorithm' is not supported" in message
    assert "trainplane runs training images only" in message


def test_instance_groups_and_flat_instance_fields_are_exclusive() -> None:
    request = body()
    request["ResourceConfig"]["InstanceGroups"] = [
        {"InstanceType": "ml.m5.large", "InstanceCount": 1, "InstanceGroupName": "cpu"}
    ]
    assert "cannot specify both InstanceGroups and InstanceType/InstanceCount" in rejected(request)


def test_instance_groups_alone_are_accepted() -> None:
    request = body()
    request["ResourceConfig"] = {
        "InstanceGroups": [
            {"InstanceType": "ml.m5.large", "InstanceCount": 1, "InstanceGroupName": "cpu"},
            {"InstanceType": "ml.g5.xlarge", "InstanceCount": 2, "InstanceGroupName": "gpu"},
        ],
        "VolumeSizeInGB": 30,
    }
    accepted(request)


def test_instance_group_names_must_be_unique() -> None:
    request = body()
    group = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "InstanceGroupName": "cpu"}
    request["ResourceConfig"] = {"InstanceGroups": [group, dict(group)]}
    assert rejected(request) == "Instance group names must be unique: cpu"


def test_instance_type_without_count() -> None:
    request = body()
    del request["ResourceConfig"]["InstanceCount"]
    assert rejected(request).startswith("ResourceConfig must specify InstanceType and InstanceCount")


def test_instance_count_zero() -> None:
    request = body()
    request["ResourceConfig"]["InstanceCount"] = 0  # the model allows 0; SageMaker training does not
    assert rejected(request).startswith("Invalid InstanceCount 0 for ResourceConfig")


def test_instance_group_count_zero() -> None:
    request = body()
    request["ResourceConfig"] = {
        "InstanceGroups": [{"InstanceType": "ml.m5.large", "InstanceCount": 0, "InstanceGroupName": "cpu"}]
    }
    assert rejected(request).startswith("Invalid InstanceCount 0 for instance group 'cpu'")


def test_volume_size_zero() -> None:
    request = body()
    request["ResourceConfig"]["VolumeSizeInGB"] = 0
    assert rejected(request).startswith("Invalid VolumeSizeInGB 0")


def test_channel_names_must_be_unique() -> None:
    request = body()
    request["InputDataConfig"].append({"ChannelName": "train", "DataSource": S3_SOURCE})
    assert rejected(request) == "Channel names must be unique: train"


def test_exactly_one_data_source_variant() -> None:
    request = body()
    request["InputDataConfig"][0]["DataSource"].update(EFS_SOURCE)
    assert "DataSource of channel 'train' must specify exactly one of" in rejected(request)


def test_fast_file_requires_s3_prefix() -> None:
    request = body()
    channel = request["InputDataConfig"][0]
    channel["InputMode"] = "FastFile"
    channel["DataSource"]["S3DataSource"]["S3DataType"] = "ManifestFile"
    assert rejected(request) == (
        "Channel 'train': FastFile input mode supports only S3DataType S3Prefix, not ManifestFile."
    )


def test_fast_file_with_s3_prefix_is_accepted() -> None:
    request = body()
    request["AlgorithmSpecification"]["TrainingInputMode"] = "FastFile"
    accepted(request)


def test_augmented_manifest_requires_pipe_mode() -> None:
    request = body()
    source = request["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    source.update(S3DataType="AugmentedManifestFile", AttributeNames=["source-ref", "label"])
    assert rejected(request) == "Channel 'train': AugmentedManifestFile requires Pipe input mode, not File."
    request["InputDataConfig"][0]["InputMode"] = "Pipe"
    accepted(request)


def test_file_system_source_requires_file_mode_including_inherited_mode() -> None:
    request = body()
    request["AlgorithmSpecification"]["TrainingInputMode"] = "Pipe"
    request["InputDataConfig"].append({"ChannelName": "efs", "DataSource": EFS_SOURCE})
    assert rejected(request) == "Channel 'efs': FileSystemDataSource requires File input mode, not Pipe."
    request["InputDataConfig"][1]["InputMode"] = "File"
    request["InputDataConfig"][0]["InputMode"] = "File"
    accepted(request)


def test_max_runtime_at_most_28_days() -> None:
    request = body()
    request["StoppingCondition"]["MaxRuntimeInSeconds"] = 2_419_200
    accepted(request)
    request["StoppingCondition"]["MaxRuntimeInSeconds"] = 2_419_201
    assert rejected(request).startswith("Invalid MaxRuntimeInSeconds 2419201.")


def test_max_wait_without_spot_uses_sagemaker_text() -> None:
    request = body()
    request["StoppingCondition"]["MaxWaitTimeInSeconds"] = 90000
    assert rejected(request) == (
        "Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true"
    )


def test_spot_requires_max_wait() -> None:
    request = body()
    request["EnableManagedSpotTraining"] = True
    assert rejected(request).startswith("Invalid MaxWaitTimeInSeconds. It must be present")


def test_spot_max_wait_must_cover_max_runtime() -> None:
    request = body()
    request["EnableManagedSpotTraining"] = True
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 3599}
    assert "greater than or equal to MaxRuntimeInSeconds" in rejected(request)
    request["StoppingCondition"]["MaxWaitTimeInSeconds"] = 3600
    accepted(request)


def test_spot_max_wait_is_compared_with_the_default_runtime() -> None:
    request = body()
    request["EnableManagedSpotTraining"] = True
    request["StoppingCondition"] = {"MaxWaitTimeInSeconds": 3600}  # default runtime is one day
    assert "greater than or equal to MaxRuntimeInSeconds" in rejected(request)


def test_hyperparameter_and_environment_counts() -> None:
    # Called directly: shape validation would already reject these maps by their model size limits.
    request = body()
    request["HyperParameters"] = {f"p{i}": "1" for i in range(101)}
    with pytest.raises(
        ValidationError, match=r"number of hyperparameters \(101\) exceeds the maximum of 100"
    ):
        check_create_training_job(request)
    request = body()
    request["Environment"] = {f"V{i}": "1" for i in range(101)}
    with pytest.raises(ValidationError, match=r"number of environment variables \(101\)"):
        check_create_training_job(request)
    request["Environment"] = {f"V{i}": "1" for i in range(100)}
    check_create_training_job(request)


@pytest.mark.parametrize("uri", ["s3://bucket/checkpoints/", "file:///srv/checkpoints"])
def test_checkpoint_uri_s3_or_file_is_accepted(uri: str) -> None:
    request = body()
    request["CheckpointConfig"] = {"S3Uri": uri, "LocalPath": "/opt/ml/checkpoints"}
    accepted(request)


def test_checkpoint_uri_over_https_is_rejected() -> None:
    request = body()
    request["CheckpointConfig"] = {"S3Uri": "https://bucket.s3.amazonaws.com/checkpoints"}
    assert rejected(request).startswith("Invalid CheckpointConfig.S3Uri 'https://bucket.s3.amazonaws.com/")


def test_out_of_scope_features_are_accepted() -> None:
    request = body()
    request["ProfilerConfig"] = {"ProfilingIntervalInMilliseconds": 500}
    request["DebugHookConfig"] = {"S3OutputPath": "s3://bucket/debug"}
    request["ExperimentConfig"] = {"ExperimentName": "exp-1"}
    accepted(request)


def test_a_channel_naming_instance_groups_the_job_lacks_is_rejected() -> None:
    request = body()
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["InstanceGroupNames"] = ["workers"]
    assert rejected(request) == (
        "Channel 'train' names instance groups that ResourceConfig.InstanceGroups does not define: workers."
    )
