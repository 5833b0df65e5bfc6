"""CloudWatch GetMetricStatistics over stored training metrics, through boto3's own protocol (RPC v2 CBOR)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import botocore.exceptions
import pytest
from api_rig import LiveApi
from requests_data import training_request

from trainplane.api.metrics import NAMESPACE
from trainplane.store.records import MetricPoint

JOB = "metrics-job"
T0 = 1_700_000_000.0  # a minute boundary


@pytest.fixture(scope="module")
def cloudwatch(live_api: LiveApi) -> object:
    live_api.platform.training.create_training_job(training_request(JOB))
    points = [MetricPoint("train:loss", 1.0 / (i + 1), T0 + 20 * i, "algo-1") for i in range(6)]  # 0..100 s
    points += [MetricPoint("train:loss", 9.0, T0 + 5, "algo-2")]
    live_api.platform.store.add_metric_points(JOB, points)
    return boto3.client(
        "cloudwatch",
        endpoint_url=live_api.url,
        region_name="us-east-1",
        aws_access_key_id=live_api.key,
        aws_secret_access_key=live_api.secret,
    )


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


def statistics(cloudwatch: object, dimension: dict[str, str], **extra: object) -> list[dict]:
    request = {
        "Namespace": NAMESPACE,
        "MetricName": "train:loss",
        "Dimensions": [dimension],
        "StartTime": at(0),
        "EndTime": at(120),
        "Period": 60,
        "Statistics": ["Average", "SampleCount", "Maximum"],
        **extra,
    }
    answer = cloudwatch.get_metric_statistics(**request)  # type: ignore[attr-defined]
    assert answer["Label"] == "train:loss"
    return sorted(answer["Datapoints"], key=lambda p: p["Timestamp"])


def test_one_hosts_values_are_bucketed_by_period(cloudwatch: object) -> None:
    points = statistics(cloudwatch, {"Name": "Host", "Value": f"{JOB}/algo-1"})
    assert [p["Timestamp"] for p in points] == [at(0), at(60)]
    assert [p["SampleCount"] for p in points] == [3.0, 3.0]  # 0, 20, 40 s | 60, 80, 100 s
    assert points[0]["Average"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert points[1]["Maximum"] == pytest.approx(1 / 4)


def test_the_job_dimension_covers_every_host(cloudwatch: object) -> None:
    points = statistics(cloudwatch, {"Name": "TrainingJobName", "Value": JOB})
    assert [p["SampleCount"] for p in points] == [4.0, 3.0]
    assert points[0]["Maximum"] == 9.0


def test_a_metric_nobody_published_has_no_datapoints(cloudwatch: object) -> None:
    assert statistics(cloudwatch, {"Name": "TrainingJobName", "Value": "no-such-job"}) == []


def test_bad_requests_get_cloudwatchs_error_codes(cloudwatch: object) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cloudwatch.get_metric_statistics(  # type: ignore[attr-defined]
            Namespace=NAMESPACE, MetricName="train:loss", StartTime=at(120), EndTime=at(0), Period=60,
            Statistics=["Average"],
        )  # fmt: skip
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        statistics(
            cloudwatch, {"Name": "TrainingJobName", "Value": JOB}, Period=1, EndTime=at(0) + timedelta(days=1)
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterCombination"
