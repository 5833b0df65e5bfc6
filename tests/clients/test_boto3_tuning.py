"""boto3 (this project's venv) against a running ``trainplane server --s3 local``: every tuning-job
operation, over built-in XGBoost on the uploaded training data."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from client_rig import Server

from trainplane.cli.quickstart import XGBOOST_IMAGE

pytestmark = pytest.mark.slow
TIMEOUT = 240.0


def _tuning_request(server: Server, name: str, rounds: int, jobs: int) -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "RandomSeed": 11,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "train:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": jobs, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5"}],
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "4"}],
            },
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {
                "objective": "binary:logistic",
                "eval_metric": "auc",
                "num_round": str(rounds),
            },
            "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
            "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "ContentType": "text/csv",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": server.train_uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{server.bucket}/boto3-tuning-output"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
        "Tags": [{"Key": "team", "Value": "ml"}],
    }


def _sagemaker(server: Server) -> Any:
    return server.client("sagemaker")


def _until(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _describe(sagemaker: Any, name: str) -> dict[str, Any]:
    return dict(sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name))


def _ended(sagemaker: Any, name: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        description = _describe(sagemaker, name)
        status = description["HyperParameterTuningJobStatus"]
        return description if status in ("Completed", "Stopped", "Failed") else None

    return dict(_until(ended, f"tuning job {name} to end"))


def _children(sagemaker: Any, name: str, **options: Any) -> list[dict[str, Any]]:
    paginator = sagemaker.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    pages = paginator.paginate(HyperParameterTuningJobName=name, **options)
    return [summary for page in pages for summary in page["TrainingJobSummaries"]]


def _code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def completed_tuning(server: Server) -> dict[str, Any]:
    """A Random tuning job of 3 children, 2 at a time, created through boto3 and polled to its end."""
    sagemaker = _sagemaker(server)
    arn = sagemaker.create_hyper_parameter_tuning_job(**_tuning_request(server, "boto3-tune", 5, 3))
    assert arn["HyperParameterTuningJobArn"].endswith(":hyper-parameter-tuning-job/boto3-tune")
    return _ended(sagemaker, "boto3-tune")


@pytest.fixture(scope="module")
def stopped_tuning(server: Server) -> dict[str, Any]:
    """A second tuning job whose children would run for a long time, stopped while they run."""
    sagemaker = _sagemaker(server)
    sagemaker.create_hyper_parameter_tuning_job(**_tuning_request(server, "boto3-tune-stop", 1_000_000, 2))
    _until(lambda: _children(sagemaker, "boto3-tune-stop"), "a child of boto3-tune-stop to be created")
    assert _describe(sagemaker, "boto3-tune-stop")["HyperParameterTuningJobStatus"] == "InProgress"
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="boto3-tune-stop")
    return _ended(sagemaker, "boto3-tune-stop")


def test_describe_of_a_completed_job_has_what_the_sdks_read(completed_tuning: dict[str, Any]) -> None:
    description = completed_tuning
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert isinstance(description["HyperParameterTuningEndTime"], datetime)
    assert description["TrainingJobStatusCounters"]["Completed"] == 3
    assert description["ObjectiveStatusCounters"] == {"Succeeded": 3, "Pending": 0, "Failed": 0}
    config = description["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Random"
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 2}
    definition = description["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"]["_tuning_objective_metric"] == "train:auc"
    assert definition["ResourceConfig"]["InstanceType"] == "ml.m5.large"
    assert definition["HyperParameterTuningResourceConfig"]["InstanceType"] == "ml.m5.large"
    best = description["BestTrainingJob"]
    assert best["TrainingJobName"].startswith("boto3-tune-")
    assert best["TrainingJobStatus"] == "Completed" and best["ObjectiveStatus"] == "Succeeded"
    objective = best["FinalHyperParameterTuningJobObjectiveMetric"]
    assert objective["MetricName"] == "train:auc" and 0.5 < objective["Value"] <= 1.0


def test_children_are_listed_sorted_by_objective_and_are_training_jobs(
    server: Server, completed_tuning: dict[str, Any]
) -> None:
    sagemaker = _sagemaker(server)
    children = _children(sagemaker, "boto3-tune", PaginationConfig={"PageSize": 1})
    assert len(children) == 3 and len({c["TrainingJobName"] for c in children}) == 3
    for child in children:
        assert child["TrainingJobStatus"] == "Completed"
        tuned = child["TunedHyperParameters"]
        assert set(tuned) == {"eta", "max_depth"}
        assert 0.05 <= float(tuned["eta"]) <= 0.5 and tuned["max_depth"] in {"1", "2", "3", "4"}
        assert child["TrainingEndTime"] >= child["TrainingStartTime"]
    ranked = _children(sagemaker, "boto3-tune", SortBy="FinalObjectiveMetricValue", SortOrder="Descending")
    values = [c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for c in ranked]
    assert values == sorted(values, reverse=True) and len(values) == 3
    best = completed_tuning["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert values[0] == best  # the best job's objective (a tie may put another name first)
    job = sagemaker.describe_training_job(TrainingJobName=ranked[0]["TrainingJobName"])
    assert job["TuningJobArn"] == completed_tuning["HyperParameterTuningJobArn"]
    assert job["HyperParameters"]["eta"] == ranked[0]["TunedHyperParameters"]["eta"]
    assert job["HyperParameters"]["num_round"] == "5"


def test_tags_on_the_tuning_job_arn_and_its_children(
    server: Server, completed_tuning: dict[str, Any]
) -> None:
    sagemaker = _sagemaker(server)
    arn = completed_tuning["HyperParameterTuningJobArn"]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}])
    assert {t["Key"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]} == {"team", "stage"}
    child = completed_tuning["BestTrainingJob"]["TrainingJobArn"]
    assert {"Key": "team", "Value": "ml"} in sagemaker.list_tags(ResourceArn=child)["Tags"]


def test_stop_ends_the_job_and_its_running_children_as_stopped(
    server: Server, stopped_tuning: dict[str, Any]
) -> None:
    assert stopped_tuning["HyperParameterTuningJobStatus"] == "Stopped"
    assert stopped_tuning["TrainingJobStatusCounters"]["Stopped"] >= 1
    assert stopped_tuning["TrainingJobStatusCounters"]["InProgress"] == 0
    sagemaker = _sagemaker(server)
    assert {c["TrainingJobStatus"] for c in _children(sagemaker, "boto3-tune-stop")} == {"Stopped"}
    with pytest.raises(ClientError) as raised:  # it has ended: nothing left to stop
        sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="boto3-tune-stop")
    assert _code(raised) == "ValidationException"


def test_the_list_paginator_walks_every_tuning_job(
    server: Server, completed_tuning: dict[str, Any], stopped_tuning: dict[str, Any]
) -> None:
    sagemaker = _sagemaker(server)
    pages = list(
        sagemaker.get_paginator("list_hyper_parameter_tuning_jobs").paginate(
            NameContains="boto3-tune", PaginationConfig={"PageSize": 1}
        )
    )
    summaries = [s for page in pages for s in page["HyperParameterTuningJobSummaries"]]
    assert len(pages) >= 2 and all(len(p["HyperParameterTuningJobSummaries"]) <= 1 for p in pages)
    by_name = {s["HyperParameterTuningJobName"]: s for s in summaries}
    assert set(by_name) == {"boto3-tune", "boto3-tune-stop"} and len(summaries) == 2
    assert by_name["boto3-tune"]["HyperParameterTuningJobStatus"] == "Completed"
    assert by_name["boto3-tune"]["Strategy"] == "Random"
    assert by_name["boto3-tune-stop"]["HyperParameterTuningJobStatus"] == "Stopped"
    completed = sagemaker.list_hyper_parameter_tuning_jobs(
        NameContains="boto3-tune", StatusEquals="Completed"
    )
    assert [s["HyperParameterTuningJobName"] for s in completed["HyperParameterTuningJobSummaries"]] == [
        "boto3-tune"
    ]


def test_delete_then_unknown_tuning_jobs_are_resource_not_found(
    server: Server, stopped_tuning: dict[str, Any]
) -> None:
    sagemaker = _sagemaker(server)
    sagemaker.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName="boto3-tune-stop")
    calls = {
        "describe": lambda name: _describe(sagemaker, name),
        "stop": lambda name: sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
        "delete": lambda name: sagemaker.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
        "children": lambda name: _children(sagemaker, name),
    }
    for name in ("boto3-tune-stop", "boto3-tune-nope"):
        for call in calls.values():
            with pytest.raises(ClientError) as raised:
                call(name)
            assert _code(raised) == "ResourceNotFound"
