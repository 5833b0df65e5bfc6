"""Training-job operations through the Python API, without running jobs: shapes, errors, no side effects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from jobs_helpers import XGBOOST_IMAGE, channel, script_job, xgboost_job
from trainplane import ResourceInUse, ResourceLimitExceeded, ResourceNotFound, TrainPlane, ValidationError
from trainplane.catalog import instances


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    with TrainPlane(environ={"TRAINPLANE_HOME": str(tmp_path / "home")}, run_jobs=False) as client:
        yield client


def builtin(name: str = "xgb-1", instance_type: str = "ml.m5.large") -> dict[str, Any]:
    request = xgboost_job(
        name, "s3://bucket/out", [channel("train", "s3://bucket/train/")], {"num_round": "10"}
    )
    request["ResourceConfig"]["InstanceType"] = instance_type
    return request


def stored_names(tp: TrainPlane) -> list[str]:
    return [s["TrainingJobName"] for s in tp.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]]


def test_create_returns_the_arn_and_describe_echoes_the_request_with_defaults(tp: TrainPlane) -> None:
    response = tp.create_training_job(**builtin())
    assert response == {"TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/xgb-1"}
    d = tp.describe_training_job(TrainingJobName="xgb-1")
    assert (d["TrainingJobStatus"], d["SecondaryStatus"]) == ("InProgress", "Starting")
    assert d["OutputDataConfig"] == {
        "S3OutputPath": "s3://bucket/out",
        "KmsKeyId": "",
        "CompressionType": "GZIP",
    }
    assert d["ModelArtifacts"]["S3ModelArtifacts"] == "s3://bucket/out/xgb-1/output/model.tar.gz"
    assert d["InputDataConfig"][0]["CompressionType"] == "None"
    assert d["InputDataConfig"][0]["RecordWrapperType"] == "None"
    assert d["EnableManagedSpotTraining"] is False
    assert isinstance(d["CreationTime"], datetime)
    names = {m["Name"] for m in d["AlgorithmSpecification"]["MetricDefinitions"]}
    assert {"train:rmse", "validation:auc", "validation:logloss"} <= names  # filled in for the built-in
    assert "#011validation-rmse" in next(
        m["Regex"] for m in d["AlgorithmSpecification"]["MetricDefinitions"] if m["Name"] == "validation:rmse"
    )
    assert d["SecondaryStatusTransitions"][0]["StatusMessage"] == "Starting the training job"
    assert "TrainingStartTime" not in d and "FailureReason" not in d


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            {"TrainingJobName": "bad_name"},
            "failed to satisfy constraint: Member must satisfy regular expression",
        ),
        ({"TrainingJobName": "a" * 64}, "Member must have length less than or equal to 63"),
        (
            {"ResourceConfig": {"InstanceType": "ml.fake.large", "InstanceCount": 1, "VolumeSizeInGB": 1}},
            "Member must satisfy enum value set",
        ),
        (
            {"StoppingCondition": {"MaxRuntimeInSeconds": 60, "MaxWaitTimeInSeconds": 120}},
            "Invalid MaxWaitTimeInSeconds",
        ),
        ({"AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE}}, "trainingInputMode"),
    ],
)
def test_invalid_requests_are_rejected_and_write_nothing(
    tp: TrainPlane, change: dict[str, Any], fragment: str
) -> None:
    request = {**builtin(), **change}
    with pytest.raises(ValidationError) as error:
        tp.create_training_job(**request)
    assert error.value.code == "ValidationException"
    assert fragment in error.value.message
    assert stored_names(tp) == []


def test_duplicate_name_is_resource_in_use_and_keeps_the_first_job(tp: TrainPlane) -> None:
    tp.create_training_job(**builtin())
    second = builtin()
    second["HyperParameters"] = {"num_round": "99"}
    with pytest.raises(ResourceInUse, match="already exists"):
        tp.create_training_job(**second)
    assert tp.describe_training_job(TrainingJobName="xgb-1")["HyperParameters"] == {"num_round": "10"}


def test_an_instance_type_larger_than_the_machine_is_refused(tp: TrainPlane) -> None:
    request = builtin(instance_type="ml.m5.24xlarge")
    with pytest.raises(ResourceLimitExceeded, match="needs 96 vCPUs"):
        tp.create_training_job(**request)
    assert stored_names(tp) == []


def test_oversubscription_is_an_explicit_setting(tmp_path: Path) -> None:
    environ = {"TRAINPLANE_HOME": str(tmp_path / "h"), "TRAINPLANE_OVERSUBSCRIPTION": "100"}
    with TrainPlane(environ=environ, run_jobs=False) as tp:
        request = builtin(instance_type="ml.m5.24xlarge")
        assert "TrainingJobArn" in tp.create_training_job(**request)


def test_a_gpu_type_without_gpus_is_not_told_to_oversubscribe(tmp_path: Path) -> None:
    environ = {"TRAINPLANE_HOME": str(tmp_path / "h"), "TRAINPLANE_OVERSUBSCRIPTION": "100"}
    with TrainPlane(environ=environ, run_jobs=False) as tp:
        request = builtin(instance_type="ml.g4dn.xlarge")
        with pytest.raises(ResourceLimitExceeded) as refused:
            tp.create_training_job(**request)
    assert "needs 4 vCPUs, 16 GiB memory and 1 GPUs" in refused.value.message
    assert "GPUs are never oversubscribed" in refused.value.message
    assert "allow oversubscription" not in refused.value.message


def test_a_trainium_type_is_refused_even_with_gpus(tmp_path: Path) -> None:
    """Trainium chips are Neuron devices, not CUDA GPUs: a GPU on this machine must not stand in."""
    environ = {
        "TRAINPLANE_HOME": str(tmp_path / "h"),
        "TRAINPLANE_GPUS": "0",
        "TRAINPLANE_OVERSUBSCRIPTION": "8",
    }
    with TrainPlane(environ=environ, run_jobs=False) as tp:
        request = builtin(instance_type="ml.trn1.2xlarge")
        with pytest.raises(ResourceLimitExceeded, match=r"ml\.trn1\.2xlarge needs 2 Neuron cores"):
            tp.create_training_job(**request)
    assert instances.lookup("ml.trn1.32xlarge").neuron_cores == 32  # type: ignore[union-attr]
    assert instances.lookup("ml.trn1.32xlarge").gpus == 0  # type: ignore[union-attr]


def test_a_queued_job_that_no_longer_fits_fails_with_a_capacity_error(tmp_path: Path) -> None:
    """Created under a large oversubscription, started by a control plane with none: it never could run."""
    home = tmp_path / "h"
    request = builtin(instance_type="ml.m5.24xlarge")
    with TrainPlane(
        environ={"TRAINPLANE_HOME": str(home), "TRAINPLANE_OVERSUBSCRIPTION": "100"}, run_jobs=False
    ) as tp:
        tp.create_training_job(**request)
    with TrainPlane(environ={"TRAINPLANE_HOME": str(home)}) as tp:
        description = tp.wait_for_training_job("xgb-1", timeout=60)
    assert description["TrainingJobStatus"] == "Failed"
    assert description["FailureReason"].startswith(
        "CapacityError: Unable to provision requested ML compute capacity. 1 x ml.m5.24xlarge needs 96 vCPUs"
    )


def test_unknown_job_errors_match_sagemaker(tp: TrainPlane) -> None:
    with pytest.raises(ValidationError) as error:
        tp.describe_training_job(TrainingJobName="nope")
    assert error.value.to_wire() == {
        "__type": "ValidationException",
        "message": "Requested resource not found.",
    }
    assert error.value.response == {  # as botocore's ClientError.response reads
        "Error": {"Code": "ValidationException", "Message": "Requested resource not found."},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    with pytest.raises(ValidationError, match="Requested resource not found"):
        tp.stop_training_job(TrainingJobName="nope")
    with pytest.raises(ResourceNotFound):
        tp.delete_training_job(TrainingJobName="nope")


def test_stop_and_delete_follow_the_lifecycle_rules(tp: TrainPlane) -> None:
    tp.create_training_job(**builtin())
    with pytest.raises(ResourceInUse, match="cannot be deleted"):
        tp.delete_training_job(TrainingJobName="xgb-1")
    tp.stop_training_job(TrainingJobName="xgb-1")
    d = tp.describe_training_job(TrainingJobName="xgb-1")
    assert (d["TrainingJobStatus"], d["SecondaryStatus"]) == ("Stopping", "Stopping")
    with pytest.raises(ValidationError, match="rejected because the training job is in status Stopping"):
        tp.stop_training_job(TrainingJobName="xgb-1")


def test_list_filters_sorts_and_pages(tp: TrainPlane, tmp_path: Path) -> None:
    for name in ["job-a", "job-b", "other-c", "job-d", "job-e"]:
        tp.create_training_job(**script_job(name, tmp_path, "print(1)"))
    tp.stop_training_job(TrainingJobName="job-b")
    page = tp.list_training_jobs(NameContains="job", SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert [s["TrainingJobName"] for s in page["TrainingJobSummaries"]] == ["job-a", "job-b"]
    rest = tp.list_training_jobs(
        NameContains="job", SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=page["NextToken"]
    )
    assert [s["TrainingJobName"] for s in rest["TrainingJobSummaries"]] == ["job-d", "job-e"]
    assert "NextToken" not in tp.list_training_jobs(NameContains="job", MaxResults=10)
    stopping = tp.list_training_jobs(StatusEquals="Stopping")["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in stopping] == ["job-b"]
    newest_first = tp.list_training_jobs(SortBy="CreationTime", SortOrder="Descending", MaxResults=1)
    assert newest_first["TrainingJobSummaries"][0]["TrainingJobName"] == "job-e"
    with pytest.raises(ValidationError, match="NextToken"):
        tp.list_training_jobs(NameContains="other", NextToken=page["NextToken"])
    everything = list(tp.iter_all_training_jobs(MaxResults=2))
    assert len(everything) == 5


def test_pages_neither_repeat_nor_skip_jobs_created_or_deleted_between_them(
    tp: TrainPlane, tmp_path: Path
) -> None:
    def names(page: dict[str, Any]) -> list[str]:
        return [s["TrainingJobName"] for s in page["TrainingJobSummaries"]]

    for name in ["ok-0", "ok-1", "ok-2", "ok-3", "ok-4"]:
        tp.create_training_job(**script_job(name, tmp_path, "print(1)"))
    newest = {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 2}
    first = tp.list_training_jobs(**newest)
    assert names(first) == ["ok-4", "ok-3"]
    tp.create_training_job(**script_job("ok-5", tmp_path, "print(1)"))  # a newer job, before the cut
    second = tp.list_training_jobs(**newest, NextToken=first["NextToken"])
    assert names(second) == ["ok-2", "ok-1"]  # an offset gave ok-3 again
    by_name = {"SortBy": "Name", "SortOrder": "Ascending", "MaxResults": 2}
    first = tp.list_training_jobs(**by_name)
    assert names(first) == ["ok-0", "ok-1"]
    tp.stop_training_job(TrainingJobName="ok-0")
    tp.platform.store.update_training_job("ok-0", now=time.time(), status="Stopped", secondary="Stopped")
    tp.delete_training_job(TrainingJobName="ok-0")  # a job of a page already read goes away
    second = tp.list_training_jobs(**by_name, NextToken=first["NextToken"])
    assert names(second) == ["ok-2", "ok-3"]  # an offset skipped ok-2


def test_tags_are_listed_added_and_removed(tp: TrainPlane) -> None:
    request = builtin()
    request["Tags"] = [{"Key": "team", "Value": "ml"}]
    arn = tp.create_training_job(**request)["TrainingJobArn"]
    tp.add_tags(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    assert tp.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "ml"},
    ]
    tp.delete_tags(ResourceArn=arn, TagKeys=["env"])
    assert tp.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    with pytest.raises(ResourceNotFound):
        tp.list_tags(ResourceArn=arn.replace("xgb-1", "missing"))


def test_tag_keys_with_the_reserved_aws_prefix_are_refused_in_any_case(tp: TrainPlane) -> None:
    request = builtin()
    request["Tags"] = [{"Key": "AWS:owner", "Value": "me"}]
    reserved = "System prefix 'aws:' reserved for AWS usage in tag key: AWS:owner"
    with pytest.raises(ValidationError, match=reserved):
        tp.create_training_job(**request)
    assert stored_names(tp) == []
    arn = tp.create_training_job(**builtin())["TrainingJobArn"]
    with pytest.raises(ValidationError, match="reserved"):
        tp.add_tags(ResourceArn=arn, Tags=[{"Key": "aws:cloudformation:stack-name", "Value": "s"}])
    with pytest.raises(ValidationError, match="reserved"):
        tp.delete_tags(ResourceArn=arn, TagKeys=["aws:cloudformation:stack-name"])
    assert tp.list_tags(ResourceArn=arn)["Tags"] == []


def test_a_resource_holds_at_most_fifty_tags_counting_those_it_has(tp: TrainPlane) -> None:
    request = builtin()
    request["Tags"] = [{"Key": f"k{i:02d}", "Value": "v"} for i in range(48)]
    arn = tp.create_training_job(**request)["TrainingJobArn"]
    tp.add_tags(ResourceArn=arn, Tags=[{"Key": "k00", "Value": "new"}, {"Key": "k48", "Value": "v"}])
    tp.add_tags(ResourceArn=arn, Tags=[{"Key": "k49", "Value": "v"}])  # exactly 50: replacing k00 added none
    with pytest.raises(ValidationError, match="would have 51 tags; a resource can have at most 50"):
        tp.add_tags(ResourceArn=arn, Tags=[{"Key": "k50", "Value": "v"}])
    tags = tp.list_tags(ResourceArn=arn)["Tags"]
    assert len(tags) == 50 and tags[0] == {"Key": "k00", "Value": "new"}


def test_warm_pool_and_training_plan_filters_match_no_job(tp: TrainPlane) -> None:
    request = builtin()
    request["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 600
    tp.create_training_job(**request)
    assert len(tp.list_training_jobs()["TrainingJobSummaries"]) == 1
    assert tp.list_training_jobs(WarmPoolStatusEquals="Available")["TrainingJobSummaries"] == []
    plan = "arn:aws:sagemaker:us-east-1:123456789012:training-plan/plan"
    assert tp.list_training_jobs(TrainingPlanArnEquals=plan)["TrainingJobSummaries"] == []
    with pytest.raises(ValidationError):
        tp.list_training_jobs(WarmPoolStatusEquals="Warm")


def test_list_time_filters_take_datetimes_and_epoch_numbers(tp: TrainPlane, tmp_path: Path) -> None:
    for name in ["t-1", "t-2", "t-3"]:
        tp.create_training_job(**script_job(name, tmp_path, "print(1)"))
        time.sleep(0.01)  # times have millisecond precision, as SageMaker's: keep them distinct
    created = {
        s["TrainingJobName"]: s["CreationTime"]
        for s in tp.list_training_jobs(MaxResults=10)["TrainingJobSummaries"]
    }
    after_first = tp.list_training_jobs(CreationTimeAfter=created["t-1"], SortOrder="Ascending")
    assert [s["TrainingJobName"] for s in after_first["TrainingJobSummaries"]] == ["t-2", "t-3"]
    before_last = tp.list_training_jobs(CreationTimeBefore=created["t-3"].timestamp(), SortOrder="Ascending")
    assert [s["TrainingJobName"] for s in before_last["TrainingJobSummaries"]] == ["t-1", "t-2"]
    modified = tp.list_training_jobs(LastModifiedTimeAfter=created["t-3"])
    assert modified["TrainingJobSummaries"] == []
