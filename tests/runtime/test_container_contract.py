"""The container contract: config files and the SM_* environment for a sample two-host job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainplane.runtime.contract import (
    DistributedInfo,
    HostContext,
    build_environment,
    write_config_files,
)
from trainplane.runtime.paths import MLPaths
from trainplane.runtime.script_mode import UserEntry

HPS = {
    "sagemaker_program": '"train.py"',
    "sagemaker_submit_directory": '"s3://bucket/src/sourcedir.tar.gz"',
    "sagemaker_container_log_level": "20",
    "sagemaker_pytorch_ddp_enabled": "true",
    "_tuning_objective_metric": "validation:rmse",
    "learning-rate": "3e-05",
    "epochs": "64",
    "do_eval": "true",
    "optimizer": '"adam"',
}
CHANNELS = [
    {
        "ChannelName": "train",
        "ContentType": "text/csv",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/train/"}},
    },
    {
        "ChannelName": "validation",
        "InputMode": "FastFile",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": "s3://bucket/validation/",
                "S3DataDistributionType": "ShardedByS3Key",
            }
        },
    },
]


def context(**overrides) -> HostContext:
    values = dict(
        job_name="job-1",
        job_arn="arn:aws:sagemaker:us-west-2:000000000000:training-job/job-1",
        region="us-west-2",
        current_host="algo-2",
        hosts=["algo-2", "algo-1"],
        instance_type="ml.m5.xlarge",
        hyperparameters=HPS,
        channels=CHANNELS,
        training_input_mode="File",
        environment={"MY_VAR": "x", "SM_LOG_LEVEL": "overridden?", "PYTHONPATH": "/extra"},
        num_cpus=4,
    )
    values.update(overrides)
    return HostContext(**values)


@pytest.fixture
def paths(tmp_path: Path) -> MLPaths:
    return MLPaths(tmp_path / "algo-2").create()


def read(path: Path):
    return json.loads(path.read_text())


def test_hyperparameters_file_is_verbatim(paths: MLPaths) -> None:
    write_config_files(context(), paths)
    assert read(paths.hyperparameters_file) == HPS


def test_hyperparameters_file_is_empty_object_without_hyperparameters(paths: MLPaths) -> None:
    write_config_files(context(hyperparameters={}), paths)
    assert paths.hyperparameters_file.read_text() == "{}"


def test_inputdataconfig_has_content_type_only_when_given_and_channel_mode_overrides(paths: MLPaths) -> None:
    write_config_files(context(), paths)
    assert read(paths.inputdataconfig_file) == {
        "train": {
            "ContentType": "text/csv",
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        },
        "validation": {
            "TrainingInputMode": "FastFile",
            "S3DistributionType": "ShardedByS3Key",
            "RecordWrapperType": "None",
        },
    }


def test_resourceconfig_sorts_hosts_and_names_the_homogeneous_group(paths: MLPaths) -> None:
    write_config_files(context(), paths)
    assert read(paths.resourceconfig_file) == {
        "current_host": "algo-2",
        "current_instance_type": "ml.m5.xlarge",
        "current_group_name": "homogeneousCluster",
        "hosts": ["algo-1", "algo-2"],
        "instance_groups": [
            {
                "instance_group_name": "homogeneousCluster",
                "instance_type": "ml.m5.xlarge",
                "hosts": ["algo-2", "algo-1"],
            }
        ],
        "network_interface_name": "eth0",
    }


def test_resourceconfig_picks_the_current_hosts_group_in_a_heterogeneous_cluster(paths: MLPaths) -> None:
    groups = [
        {"instance_group_name": "cpu", "instance_type": "ml.c5.xlarge", "hosts": ["algo-1"]},
        {"instance_group_name": "gpu", "instance_type": "ml.g5.xlarge", "hosts": ["algo-2"]},
    ]
    ctx = context(instance_groups=groups)
    write_config_files(ctx, paths)
    config = read(paths.resourceconfig_file)
    assert (config["current_group_name"], config["current_instance_type"]) == ("gpu", "ml.g5.xlarge")
    env = build_environment(ctx, paths)
    assert env["SM_IS_HETERO"] == "true"
    assert env["SM_INSTANCE_GROUPS"] == '["cpu","gpu"]'
    assert env["SM_CURRENT_INSTANCE_GROUP"] == "gpu"
    assert env["SM_CURRENT_INSTANCE_GROUP_HOSTS"] == '["algo-2"]'
    assert json.loads(env["SM_INSTANCE_GROUPS_DICT"])["cpu"]["hosts"] == ["algo-1"]


def test_checkpointconfig_only_with_checkpoint_config_and_default_local_path(paths: MLPaths) -> None:
    write_config_files(context(), paths)
    assert not paths.checkpointconfig_file.exists()
    write_config_files(context(checkpoint_config={"S3Uri": "s3://bucket/ckpt/"}), paths)
    assert read(paths.checkpointconfig_file) == {
        "LocalPath": "/opt/ml/checkpoints",
        "S3Uri": "s3://bucket/ckpt/",
    }
    write_config_files(context(checkpoint_config={"S3Uri": "s3://b/c", "LocalPath": "/opt/ml/ck"}), paths)
    assert read(paths.checkpointconfig_file)["LocalPath"] == "/opt/ml/ck"


def test_environment_literal_values_for_the_sample_job(paths: MLPaths) -> None:
    env = build_environment(context(), paths)
    root = str(paths.root)
    expected = {
        "TRAINING_JOB_NAME": "job-1",
        "TRAINING_JOB_ARN": "arn:aws:sagemaker:us-west-2:000000000000:training-job/job-1",
        "AWS_REGION": "us-west-2",
        "AWS_DEFAULT_REGION": "us-west-2",
        "TRAINPLANE_ML_ROOT": root,
        "MY_VAR": "x",
        "PYTHONPATH": f"{root}/code:/extra",
        "SM_MODEL_DIR": f"{root}/model",
        "SM_CHANNELS": '["train","validation"]',
        "SM_CHANNEL_TRAIN": f"{root}/input/data/train",
        "SM_CHANNEL_VALIDATION": f"{root}/input/data/validation",
        "SM_HPS": '{"do_eval":true,"epochs":64,"learning-rate":3e-05,"optimizer":"adam"}',
        "SM_HP_LEARNING-RATE": "3e-05",
        "SM_HP_EPOCHS": "64",
        "SM_HP_DO_EVAL": "true",
        "SM_HP_OPTIMIZER": "adam",
        "SM_USER_ARGS": '["--do_eval","True","--epochs","64","--learning-rate","3e-05","--optimizer","adam"]',
        "SM_CURRENT_HOST": "algo-2",
        "SM_HOSTS": '["algo-1","algo-2"]',
        "SM_NUM_GPUS": "0",
        "SM_NUM_CPUS": "4",
        "SM_NUM_NEURONS": "0",
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_LOG_LEVEL": "20",
        "SM_INPUT_DIR": f"{root}/input",
        "SM_INPUT_CONFIG_DIR": f"{root}/input/config",
        "SM_OUTPUT_DIR": f"{root}/output",
        "SM_OUTPUT_DATA_DIR": f"{root}/output/data",
        "SM_OUTPUT_INTERMEDIATE_DIR": f"{root}/output/intermediate",
        "SM_FRAMEWORK_PARAMS": '{"sagemaker_pytorch_ddp_enabled":true}',
        "SM_FRAMEWORK_MODULE": "",
        "SM_MODULE_NAME": "train",
        "SM_MODULE_DIR": "s3://bucket/src/sourcedir.tar.gz",
        "SM_USER_ENTRY_POINT": "train.py",
        "SM_CURRENT_INSTANCE_TYPE": "ml.m5.xlarge",
        "SM_CURRENT_INSTANCE_GROUP": "homogeneousCluster",
        "SM_CURRENT_INSTANCE_GROUP_HOSTS": '["algo-2","algo-1"]',
        "SM_INSTANCE_GROUPS": '["homogeneousCluster"]',
        "SM_IS_HETERO": "false",
        "SM_DISTRIBUTION_INSTANCE_GROUPS": '["homogeneousCluster"]',
    }
    assert {k: env[k] for k in expected} == expected
    assert "SM_HP_SAGEMAKER_PROGRAM" not in env and "SM_HP__TUNING_OBJECTIVE_METRIC" not in env


def test_json_valued_variables_match_the_config_files(paths: MLPaths) -> None:
    ctx = context()
    write_config_files(ctx, paths)
    env = build_environment(ctx, paths)
    assert json.loads(env["SM_RESOURCE_CONFIG"]) == read(paths.resourceconfig_file)
    assert json.loads(env["SM_INPUT_DATA_CONFIG"]) == read(paths.inputdataconfig_file)
    assert env["SM_RESOURCE_CONFIG"].startswith('{"current_group_name":"homogeneousCluster",')


def test_training_env_describes_the_whole_environment(paths: MLPaths) -> None:
    training_env = json.loads(build_environment(context(), paths)["SM_TRAINING_ENV"])
    assert training_env["job_name"] == "job-1"
    assert training_env["master_hostname"] == "algo-2"  # first host of the distribution group, as listed
    assert training_env["is_master"] is True
    assert training_env["hyperparameters"]["learning-rate"] == 3e-05
    assert training_env["channel_input_dirs"]["train"] == f"{paths.root}/input/data/train"


def test_platform_and_toolkit_variables_win_over_request_environment(paths: MLPaths) -> None:
    env = build_environment(context(environment={"SM_LOG_LEVEL": "10", "TRAINING_JOB_NAME": "x"}), paths)
    assert env["SM_LOG_LEVEL"] == "20"
    assert env["TRAINING_JOB_NAME"] == "job-1"


def test_opt_ml_view_points_every_path_at_opt_ml(paths: MLPaths) -> None:
    env = build_environment(context(), paths, opt_ml_view=True)
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"
    assert env["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"
    assert env["SM_OUTPUT_DATA_DIR"] == "/opt/ml/output/data"
    assert env["PYTHONPATH"].startswith("/opt/ml/code")
    assert env["TRAINPLANE_ML_ROOT"] == str(paths.root)  # still valid: the root stays visible too
    assert str(paths.root) not in env["SM_TRAINING_ENV"]


def test_without_script_mode_hyperparameters_module_fields_follow_the_toolkit(paths: MLPaths) -> None:
    env = build_environment(context(hyperparameters={"num_round": "10"}), paths)
    assert env["SM_MODULE_NAME"] == "None"  # the toolkit's str(None)
    assert env["SM_USER_ENTRY_POINT"] == ""
    assert env["SM_MODULE_DIR"] == f"{paths.root}/code"
    assert env["SM_USER_ARGS"] == '["--num_round","10"]'
    assert env["SM_DISTRIBUTION_INSTANCE_GROUPS"] == "[]"


def test_explicit_user_entry_overrides_the_hyperparameters(paths: MLPaths) -> None:
    env = build_environment(context(hyperparameters={}), paths, user_entry=UserEntry("main.py"))
    assert (env["SM_USER_ENTRY_POINT"], env["SM_MODULE_NAME"]) == ("main.py", "main")


def test_distributed_variables_for_a_host(paths: MLPaths) -> None:
    ctx = context()
    info = DistributedInfo.for_host(ctx, master_port=29500)
    env = build_environment(ctx, paths, distributed=info)
    assert {
        k: env[k] for k in ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK", "NODE_RANK")
    } == {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": "29500",
        "WORLD_SIZE": "2",
        "RANK": "1",
        "LOCAL_RANK": "0",
        "NODE_RANK": "1",
    }
    assert "MASTER_ADDR" not in build_environment(ctx, paths)


def test_distributed_info_from_a_json_shaped_mapping(paths: MLPaths) -> None:
    spec = {"master_addr": "127.0.0.1", "master_port": 29501, "world_size": 2, "rank": 1}
    env = build_environment(context(), paths, distributed=spec)
    assert (env["MASTER_PORT"], env["RANK"], env["NODE_RANK"], env["LOCAL_RANK"]) == ("29501", "1", "1", "0")
