"""The handler table: ``X-Amz-Target`` -> (service model, operation, callable).

Handlers are the service's own methods: the API parses JSON, calls one of these with the request dict
and serialises what it returns with the operation's output shape. To serve more operations (tuning jobs),
add entries to a table here; nothing else in the API changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trainplane.api.logs import LogsService
from trainplane.api.metrics import MetricsService
from trainplane.service.training import TrainingService
from trainplane.service.tuning import TuningService

SAGEMAKER_PREFIX = "SageMaker"
LOGS_PREFIX = "Logs_20140328"
CLOUDWATCH_PREFIX = "GraniteServiceVersion20100801"  # CloudWatch's RPC v2 service name (cbor_rpc)


@dataclass(frozen=True)
class Operation:
    service: str  # botocore service model name, for output serialisation
    name: str
    call: Callable[[dict[str, Any]], dict[str, Any]]


def _table(
    prefix: str, service: str, calls: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]]
) -> dict[str, Operation]:
    return {f"{prefix}.{name}": Operation(service, name, call) for name, call in calls.items()}


def training_operations(training: TrainingService) -> dict[str, Operation]:
    return _table(
        SAGEMAKER_PREFIX,
        "sagemaker",
        {
            "CreateTrainingJob": training.create_training_job,
            "DescribeTrainingJob": training.describe_training_job,
            "ListTrainingJobs": training.list_training_jobs,
            "StopTrainingJob": training.stop_training_job,
            "DeleteTrainingJob": training.delete_training_job,
            "AddTags": training.add_tags,
            "ListTags": training.list_tags,
            "DeleteTags": training.delete_tags,
        },
    )


def tuning_operations(tuning: TuningService) -> dict[str, Operation]:
    children = tuning.list_training_jobs_for_hyper_parameter_tuning_job
    return _table(
        SAGEMAKER_PREFIX,
        "sagemaker",
        {
            "CreateHyperParameterTuningJob": tuning.create_hyper_parameter_tuning_job,
            "DescribeHyperParameterTuningJob": tuning.describe_hyper_parameter_tuning_job,
            "ListHyperParameterTuningJobs": tuning.list_hyper_parameter_tuning_jobs,
            "StopHyperParameterTuningJob": tuning.stop_hyper_parameter_tuning_job,
            "DeleteHyperParameterTuningJob": tuning.delete_hyper_parameter_tuning_job,
            "ListTrainingJobsForHyperParameterTuningJob": children,
        },
    )


def logs_operations(logs: LogsService) -> dict[str, Operation]:
    return _table(
        LOGS_PREFIX,
        "logs",
        {"DescribeLogStreams": logs.describe_log_streams, "GetLogEvents": logs.get_log_events},
    )


def metrics_operations(metrics: MetricsService) -> dict[str, Operation]:
    return _table(CLOUDWATCH_PREFIX, "cloudwatch", {"GetMetricStatistics": metrics.get_metric_statistics})
