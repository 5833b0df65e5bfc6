"""CloudWatch's GetMetricStatistics over the store's training-job metrics.

SageMaker publishes each job's metric values (the MetricDefinitions' matches) to CloudWatch in the
namespace ``/aws/sagemaker/TrainingJobs``, with the dimension ``TrainingJobName`` (every host's values) or
``Host`` (``<job>/algo-<n>``, one host's). The SDK's ``TrainingJobAnalytics`` reads them back one metric at
a time; this answers those reads from the stored series.

Statistics are CloudWatch's: each datapoint covers one period-long bucket of ``[StartTime, EndTime)``,
buckets aligned to ``StartTime``, with ``SampleCount``, ``Average``, ``Sum``, ``Minimum`` and ``Maximum``
of the values in it; empty buckets have no datapoint. Percentiles (``ExtendedStatistics``) are not kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from trainplane.errors import ApiError, ValidationError
from trainplane.service.validation import validate_input
from trainplane.store import Store
from trainplane.store.records import MetricPoint

NAMESPACE = "/aws/sagemaker/TrainingJobs"
MAX_DATAPOINTS = 1440  # CloudWatch's limit per call


class MetricsInvalidParameter(ApiError):
    """CloudWatch's spelling of a bad request."""

    code = "InvalidParameterValue"
    status = 400


class MetricsInvalidCombination(ApiError):
    code = "InvalidParameterCombination"
    status = 400


class MetricsService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get_metric_statistics(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            request = validate_input("GetMetricStatistics", params, service="cloudwatch")
        except ValidationError as exc:
            raise MetricsInvalidParameter(exc.message) from None
        statistics = request.get("Statistics") or []
        if request.get("ExtendedStatistics"):
            raise MetricsInvalidParameter("trainplane keeps no percentiles: ask for Statistics only.")
        if not statistics:
            raise MetricsInvalidCombination("Must specify either Statistics or ExtendedStatistics.")
        start, end = request["StartTime"].timestamp(), request["EndTime"].timestamp()
        period = int(request["Period"])
        if end <= start:
            raise MetricsInvalidParameter("The parameter StartTime must be less than the parameter EndTime.")
        if (end - start) / period > MAX_DATAPOINTS:
            raise MetricsInvalidCombination(
                f"You have requested up to {int((end - start) / period)} datapoints, which exceeds the limit "
                f"of {MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or "
                "decreasing the time range."
            )
        name = request["MetricName"]
        points = self._points(request["Namespace"], name, request.get("Dimensions") or [])
        inside = [p for p in points if start <= p.timestamp < end]
        return {"Label": name, "Datapoints": datapoints(inside, start, period, statistics)}

    def _points(self, namespace: str, metric: str, dimensions: Sequence[dict[str, str]]) -> list[MetricPoint]:
        if namespace != NAMESPACE or len(dimensions) != 1:
            return []  # CloudWatch answers a metric nobody published with no datapoints, not an error
        dimension = dimensions[0]
        if dimension["Name"] == "TrainingJobName":
            job, host = dimension["Value"], None
        elif dimension["Name"] == "Host" and "/" in dimension["Value"]:
            job, host = dimension["Value"].split("/", 1)
        else:
            return []
        return [
            p for p in self.store.metric_points(job) if p.name == metric and (host is None or p.host == host)
        ]


def datapoints(
    points: Sequence[MetricPoint], start: float, period: int, statistics: Sequence[str]
) -> list[dict[str, Any]]:
    """One datapoint per non-empty period bucket, in time order."""
    buckets: dict[int, list[float]] = defaultdict(list)
    for point in points:
        buckets[int((point.timestamp - start) // period)].append(point.value)
    out = []
    for index in sorted(buckets):
        values = buckets[index]
        every = {
            "SampleCount": float(len(values)),
            "Average": sum(values) / len(values),
            "Sum": sum(values),
            "Minimum": min(values),
            "Maximum": max(values),
        }
        stamp = datetime.fromtimestamp(start + index * period, UTC)
        out.append({"Timestamp": stamp, **{s: every[s] for s in statistics}, "Unit": "None"})
    return out


__all__ = ["NAMESPACE", "MetricsService", "datapoints"]
