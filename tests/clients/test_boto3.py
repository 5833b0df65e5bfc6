"""boto3 (this project's venv) against a running ``trainplane server --s3 local``: every operation,
the ListTrainingJobs paginator, the completion waiter, CloudWatch Logs, and each wire error code."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore.exceptions import ClientError
from client_rig import Server

from jobs_helpers import script_job
from trainplane.cli.quickstart import quickstart_request

pytestmark = pytest.mark.slow
LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def _request(server: Server, name: str, rounds: int = 10) -> dict[str, Any]:
    request = quickstart_request(name, "data", rounds)
    request["InputDataConfig"] = request["InputDataConfig"][:1]  # train only
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = server.train_uri
    request["OutputDataConfig"]["S3OutputPath"] = f"s3://{server.bucket}/boto3-output"
    request["HyperParameters"].pop("early_stopping_rounds")
    return request


def _client(server: Server, service: str, **overrides: str) -> Any:
    env = server.env
    endpoint = {"s3": "AWS_ENDPOINT_URL_S3", "logs": "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"}.get(
        service, f"AWS_ENDPOINT_URL_{service.upper()}"
    )
    return boto3.client(
        service,
        region_name=env["AWS_DEFAULT_REGION"],
        endpoint_url=env[endpoint],
        aws_access_key_id=overrides.get("key", env["AWS_ACCESS_KEY_ID"]),
        aws_secret_access_key=overrides.get("secret", env["AWS_SECRET_ACCESS_KEY"]),
    )


@pytest.fixture(scope="module")
def completed_job(server: Server) -> str:
    """A job run to completion through boto3, waited for with the SDK's own waiter."""
    sagemaker = _client(server, "sagemaker")
    request = _request(server, "boto3-complete")
    request["Tags"] = [{"Key": "team", "Value": "ml"}]
    arn = sagemaker.create_training_job(**request)["TrainingJobArn"]
    assert arn.endswith(":training-job/boto3-complete")
    waiter = sagemaker.get_waiter("training_job_completed_or_stopped")
    waiter.wait(TrainingJobName="boto3-complete", WaiterConfig={"Delay": 1, "MaxAttempts": 180})
    return "boto3-complete"


def test_the_waiter_ends_on_completed_and_describe_has_the_sdk_fields(
    server: Server, completed_job: str
) -> None:
    description = _client(server, "sagemaker").describe_training_job(TrainingJobName=completed_job)
    assert description["TrainingJobStatus"] == "Completed"
    assert isinstance(description["TrainingEndTime"], datetime)  # epoch numbers parsed by botocore
    assert description["ModelArtifacts"]["S3ModelArtifacts"].endswith(f"/{completed_job}/output/model.tar.gz")
    assert description["OutputDataConfig"]["KmsKeyId"] == ""
    assert description["BillableTimeInSeconds"] >= 1
    s3 = _client(server, "s3")
    key = description["ModelArtifacts"]["S3ModelArtifacts"].split(f"{server.bucket}/", 1)[1]
    assert s3.head_object(Bucket=server.bucket, Key=key)["ContentLength"] > 0  # artifact reached SeaweedFS


def test_tags_are_added_listed_and_deleted(server: Server, completed_job: str) -> None:
    sagemaker = _client(server, "sagemaker")
    arn = sagemaker.describe_training_job(TrainingJobName=completed_job)["TrainingJobArn"]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}])
    assert {t["Key"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]} == {"team", "stage"}
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "dev"}]


def test_logs_client_reads_the_job_stream_and_polls_without_loss(server: Server, completed_job: str) -> None:
    logs = _client(server, "logs")
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{completed_job}/")
    names = [s["logStreamName"] for s in streams["logStreams"]]
    assert len(names) == 1 and names[0].startswith(f"{completed_job}/algo-1-")
    first = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=names[0], startFromHead=True)
    assert any(e["message"].startswith("[0]#011train-auc:") for e in first["events"])  # CloudWatch's tab
    again = logs.get_log_events(
        logGroupName=LOG_GROUP,
        logStreamName=names[0],
        startFromHead=True,
        nextToken=first["nextForwardToken"],
    )
    assert again["events"] == [] and again["nextForwardToken"] == first["nextForwardToken"]


def test_the_list_paginator_walks_every_page(server: Server, completed_job: str) -> None:
    sagemaker = _client(server, "sagemaker")
    for name in ("boto3-page-a", "boto3-page-b"):
        sagemaker.create_training_job(**_request(server, name))
    pages = list(
        sagemaker.get_paginator("list_training_jobs").paginate(
            NameContains="boto3-", PaginationConfig={"PageSize": 1}
        )
    )
    names = [s["TrainingJobName"] for page in pages for s in page["TrainingJobSummaries"]]
    assert len(pages) >= 3 and all(len(p["TrainingJobSummaries"]) <= 1 for p in pages)
    assert {"boto3-complete", "boto3-page-a", "boto3-page-b"} <= set(names)
    assert len(names) == len(set(names))


def test_stop_then_delete(server: Server) -> None:
    sagemaker = _client(server, "sagemaker")
    sagemaker.create_training_job(**_request(server, "boto3-stop", rounds=1_000_000))
    sagemaker.stop_training_job(TrainingJobName="boto3-stop")
    waiter = sagemaker.get_waiter("training_job_completed_or_stopped")
    waiter.wait(TrainingJobName="boto3-stop", WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    assert sagemaker.describe_training_job(TrainingJobName="boto3-stop")["TrainingJobStatus"] == "Stopped"
    sagemaker.delete_training_job(TrainingJobName="boto3-stop")
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_training_job(TrainingJobName="boto3-stop")
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def _code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def test_service_error_codes(server: Server, completed_job: str) -> None:
    sagemaker = _client(server, "sagemaker")
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_training_job(TrainingJobName="boto3-nope")
    assert _code(raised) == "ValidationException"
    with pytest.raises(ClientError) as raised:
        sagemaker.create_training_job(**_request(server, completed_job))
    assert _code(raised) == "ResourceInUse"
    with pytest.raises(ClientError) as raised:
        sagemaker.delete_training_job(TrainingJobName="boto3-nope")
    assert _code(raised) == "ResourceNotFound"
    bad = copy.deepcopy(_request(server, "boto3-bad"))
    bad["ResourceConfig"]["InstanceType"] = "ml.nope.large"  # an enum the client does not check
    with pytest.raises(ClientError) as raised:
        sagemaker.create_training_job(**bad)
    assert _code(raised) == "ValidationException"


def test_authentication_error_codes(server: Server) -> None:
    with pytest.raises(ClientError) as raised:
        _client(server, "sagemaker", secret="wrong-secret").list_training_jobs()
    assert _code(raised) == "InvalidSignatureException"
    with pytest.raises(ClientError) as raised:
        _client(server, "sagemaker", key="TPIAUNKNOWN000000000").list_training_jobs()
    assert _code(raised) == "UnrecognizedClientException"
    skewed = datetime.now(UTC) - timedelta(minutes=20)
    clock = mock.patch.object(botocore.auth, "get_current_datetime", return_value=skewed.replace(tzinfo=None))
    with clock, pytest.raises(ClientError) as raised:
        _client(server, "sagemaker").list_training_jobs()
    assert _code(raised) == "InvalidSignatureException"
    assert raised.value.response["Error"]["Message"].startswith("Signature expired")


def test_unknown_operation_and_malformed_json(server: Server) -> None:
    sagemaker = _client(server, "sagemaker")

    def rewrite(target: str | None = None, body: bytes | None = None) -> Any:
        def hook(request: Any, **_: Any) -> None:  # runs before signing, like a differently built client
            if target:
                del request.headers["X-Amz-Target"]  # botocore's headers append on assignment
                request.headers["X-Amz-Target"] = target
            if body is not None:
                request.data = body

        return hook

    event = "before-sign.sagemaker.ListTrainingJobs"
    sagemaker.meta.events.register_first(event, rewrite(target="SageMaker.Nope"))
    with pytest.raises(ClientError) as raised:
        sagemaker.list_training_jobs()
    assert _code(raised) == "UnknownOperationException"
    other = _client(server, "sagemaker")
    other.meta.events.register_first(event, rewrite(body=b"{not json"))
    with pytest.raises(ClientError) as raised:
        other.list_training_jobs()
    assert _code(raised) == "SerializationException"


def test_sts_and_iam(server: Server) -> None:
    identity = _client(server, "sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["UserId"] == server.env["AWS_ACCESS_KEY_ID"]
    with pytest.raises(ClientError) as raised:
        _client(server, "iam").get_role(RoleName="trainplane-execution")
    assert _code(raised) == "AccessDenied"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


JOB_CLIENTS = """
    import os
    import boto3
    s3 = boto3.client("s3")  # no endpoint, no keys: what a SageMaker job's role gives it
    listed = s3.list_objects_v2(Bucket=os.environ["BUCKET"], Prefix="data/train/")
    print("s3-keys", [o["Key"] for o in listed["Contents"]], flush=True)
    sagemaker = boto3.client("sagemaker", endpoint_url=os.environ["API"])
    try:
        sagemaker.list_training_jobs()
        print("api-allowed", flush=True)
    except Exception as exc:
        print("api-refused", exc.response["Error"]["Code"], flush=True)
"""


def test_a_job_reaches_the_object_store_but_not_the_api(server: Server, tmp_path: Path) -> None:
    """A job's boto3 finds the S3 endpoint with the jobs' key pair; that pair cannot drive the API."""
    sagemaker = _client(server, "sagemaker")
    request = script_job(
        "boto3-job-clients",
        tmp_path,
        JOB_CLIENTS,
        Environment={"BUCKET": server.bucket, "API": server.url},
        OutputDataConfig={"S3OutputPath": f"s3://{server.bucket}/boto3-output"},
    )
    sagemaker.create_training_job(**request)
    waiter = sagemaker.get_waiter("training_job_completed_or_stopped")
    waiter.wait(TrainingJobName="boto3-job-clients", WaiterConfig={"Delay": 1, "MaxAttempts": 180})
    description = sagemaker.describe_training_job(TrainingJobName="boto3-job-clients")
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    logs = _client(server, "logs")
    stream = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix="boto3-job-clients/")
    name = stream["logStreams"][0]["logStreamName"]
    events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=name, startFromHead=True)["events"]
    messages = [e["message"] for e in events]
    assert "s3-keys ['data/train/train.csv']" in messages
    assert "api-refused UnrecognizedClientException" in messages
