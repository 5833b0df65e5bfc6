"""DescribeTrainingJob and ListTrainingJobs shapes, assembled from stored rows.

Times are ``datetime`` objects, as boto3 returns them; the HTTP layer turns them into epoch numbers.
Training and billable seconds are derived from the attempts, never stored twice.
"""

from __future__ import annotations

from typing import Any

from trainplane.clock import to_datetime
from trainplane.spot.billing import AttemptUsage, CostReport, cost_report
from trainplane.states import JobStatus
from trainplane.store import Store
from trainplane.store.records import Attempt, TrainingJob

_ECHOED = (
    "HyperParameters",
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "VpcConfig",
    "StoppingCondition",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "Environment",
    "RetryStrategy",
    "DebugHookConfig",
    "ExperimentConfig",
    "DebugRuleConfigurations",
    "TensorBoardOutputConfig",
    "ProfilerConfig",
    "ProfilerRuleConfigurations",
    "RemoteDebugConfig",
    "InfraCheckConfig",
)
MAX_FINAL_METRICS = 40


def usage(job: TrainingJob, attempts: list[Attempt], now: float) -> list[AttemptUsage]:
    """The attempts that ran, as billing sees them; a spot job's on-demand attempts are fallbacks."""
    resource = job.request["ResourceConfig"]
    spot_job = bool(job.request.get("EnableManagedSpotTraining"))
    return [
        AttemptUsage(
            start=a.start_time,
            end=max(a.start_time, a.end_time if a.end_time is not None else now),
            instance_type=resource["InstanceType"],
            instance_count=int(resource["InstanceCount"]),
            spot=spot_job,
            on_demand_fallback=spot_job and not a.spot,
        )
        for a in attempts
        if a.start_time is not None
    ]


def job_cost(job: TrainingJob, store: Store, now: float) -> CostReport:
    """Training and billable seconds and dollars of one job, derived from its attempts."""
    end = job.training_end_time if job.training_end_time is not None else now
    return cost_report(usage(job, store.attempts(job.name), end))


def describe(job: TrainingJob, store: Store, now: float) -> dict[str, Any]:
    request = job.request
    result: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "ModelArtifacts": {"S3ModelArtifacts": job.model_artifacts},
        "TrainingJobStatus": job.status,
        "SecondaryStatus": job.secondary_status,
        "CreationTime": to_datetime(job.creation_time),
        "LastModifiedTime": to_datetime(job.last_modified_time),
    }
    if job.tuning_job_arn:
        result["TuningJobArn"] = job.tuning_job_arn
    if job.failure_reason:
        result["FailureReason"] = job.failure_reason[:1024]
    for key in _ECHOED:
        if key in request:
            result[key] = request[key]
    if job.training_start_time is not None:
        result["TrainingStartTime"] = to_datetime(job.training_start_time)
    if job.training_end_time is not None:
        result["TrainingEndTime"] = to_datetime(job.training_end_time)
    result["SecondaryStatusTransitions"] = [
        {
            "Status": t.status,
            "StartTime": to_datetime(t.start_time),
            **({"EndTime": to_datetime(t.end_time)} if t.end_time is not None else {}),
            "StatusMessage": t.message,
        }
        for t in job.transitions
    ]
    result["FinalMetricDataList"] = [
        {"MetricName": p.name, "Value": p.value, "Timestamp": to_datetime(p.timestamp)}
        for p in store.final_metric_points(job.name, _metric_names(job), MAX_FINAL_METRICS)
    ]
    end = job.training_end_time if job.training_end_time is not None else now
    usages = usage(job, store.attempts(job.name), end)
    if usages:  # the same accounting as `trainplane jobs cost`, so the two never disagree
        report = cost_report(usages)
        result["TrainingTimeInSeconds"] = report.training_seconds
        result["BillableTimeInSeconds"] = report.billable_seconds
    result["ProfilingStatus"] = "Disabled"
    return result


def summary(job: TrainingJob) -> dict[str, Any]:
    item: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "CreationTime": to_datetime(job.creation_time),
        "TrainingJobStatus": job.status,
        "LastModifiedTime": to_datetime(job.last_modified_time),
        "SecondaryStatus": job.secondary_status,
    }
    if JobStatus(job.status).is_terminal() and job.training_end_time is not None:
        item["TrainingEndTime"] = to_datetime(job.training_end_time)
    return item


def _metric_names(job: TrainingJob) -> list[str]:
    """The metrics the job can have points for: its MetricDefinitions (built-ins get theirs at create)."""
    definitions = job.request["AlgorithmSpecification"].get("MetricDefinitions", [])
    return [definition["Name"] for definition in definitions]
