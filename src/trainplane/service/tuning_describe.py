"""DescribeHyperParameterTuningJob, ListHyperParameterTuningJobs and child summaries, from stored rows.

A child's state is its launch record plus its training job: before the job exists it counts as
InProgress with objective Pending. Objective values are the child's objective metric points: the last
value (from any host) is final, the values of the first host to report are the per-epoch series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trainplane.clock import to_datetime
from trainplane.service.tuning_definitions import Definition, definitions, echo_definition, echo_ranges
from trainplane.service.tuning_ending import completion_reason
from trainplane.states import JobStatus
from trainplane.store.records import TrainingJob
from trainplane.store.tuning_repository import TuningChild, TuningJob
from trainplane.tuning import Direction

_RUNNING = (JobStatus.IN_PROGRESS, JobStatus.STOPPING)


@dataclass(frozen=True)
class ChildView:
    """One child as Describe and List see it."""

    child: TuningChild
    job: TrainingJob | None
    objective: float | None  # final objective (terminal children only)

    @property
    def status(self) -> str:
        if self.job is None:  # not created yet, or its creation was refused (then it is Failed)
            return self.child.final_status or JobStatus.IN_PROGRESS.value
        return self.job.status

    @property
    def terminal(self) -> bool:
        return JobStatus(self.status).is_terminal()

    @property
    def objective_status(self) -> str:
        if not self.terminal:
            return "Pending"
        ok = self.status in (JobStatus.COMPLETED, JobStatus.STOPPED) and self.objective is not None
        return "Succeeded" if ok else "Failed"


def definition_of(job: TuningJob, child: TuningChild) -> Definition:
    defs = definitions(job.request)
    return next((d for d in defs if d.name == child.definition_name), defs[0])


def counters(views: Sequence[ChildView]) -> tuple[dict[str, int], dict[str, int]]:
    status = dict.fromkeys(("Completed", "InProgress", "RetryableError", "NonRetryableError", "Stopped"), 0)
    objective = dict.fromkeys(("Succeeded", "Pending", "Failed"), 0)
    for view in views:
        objective[view.objective_status] += 1
        if view.status in _RUNNING:
            status["InProgress"] += 1
        elif view.status == JobStatus.FAILED:
            internal = (view.job.failure_reason or "") if view.job else ""
            status[
                "RetryableError" if internal.startswith("InternalServerError") else "NonRetryableError"
            ] += 1
        else:
            status[view.status] += 1
    return status, objective


def best(views: Sequence[ChildView], direction: Direction) -> ChildView | None:
    winner: ChildView | None = None
    for view in views:
        if view.objective_status != "Succeeded" or view.objective is None:
            continue
        if winner is None or direction.better(view.objective, winner.objective or 0.0):
            winner = view
    return winner


def child_summary(job: TuningJob, view: ChildView) -> dict[str, Any]:
    training = view.job
    if training is None:
        raise LookupError(f"child {view.child.training_job_name} has no training job yet")
    definition = definition_of(job, view.child)
    item: dict[str, Any] = {
        "TrainingJobName": training.name,
        "TrainingJobArn": training.arn,
        "TuningJobName": job.name,
        "CreationTime": to_datetime(training.creation_time),
        "TrainingJobStatus": training.status,
        "TunedHyperParameters": dict(view.child.config),
        "ObjectiveStatus": view.objective_status,
    }
    if view.child.definition_name:
        item["TrainingJobDefinitionName"] = view.child.definition_name
    if training.training_start_time is not None:
        item["TrainingStartTime"] = to_datetime(training.training_start_time)
    if training.training_end_time is not None:
        item["TrainingEndTime"] = to_datetime(training.training_end_time)
    if training.failure_reason:
        item["FailureReason"] = training.failure_reason[:1024]
    if view.objective is not None and view.terminal:
        item["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": definition.objective["Type"],
            "MetricName": definition.metric_name,
            "Value": view.objective,
        }
    return item


def echo_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """HyperParameterTuningJobConfig as SageMaker describes it: with its defaults filled in, which the
    SDK's ``HyperparameterTuner.attach`` reads without a fallback."""
    echoed = {"TrainingJobEarlyStoppingType": "Off", **config}
    if "ParameterRanges" in config:
        echoed["ParameterRanges"] = echo_ranges(config["ParameterRanges"])
    return echoed


def describe(
    job: TuningJob, views: Sequence[ChildView], now: float, overall: tuple[TuningJob, ChildView] | None
) -> dict[str, Any]:
    request = job.request
    status_counters, objective_counters = counters(views)
    result: dict[str, Any] = {
        "HyperParameterTuningJobName": job.name,
        "HyperParameterTuningJobArn": job.arn,
        "HyperParameterTuningJobConfig": echo_config(request["HyperParameterTuningJobConfig"]),
        "HyperParameterTuningJobStatus": job.status,
        "CreationTime": to_datetime(job.creation_time),
        "LastModifiedTime": to_datetime(job.last_modified_time),
        "TrainingJobStatusCounters": status_counters,
        "ObjectiveStatusCounters": objective_counters,
        "ConsumedResources": {"RuntimeInSeconds": int((job.end_time or now) - job.creation_time)},
    }
    defs = definitions(request)
    if request.get("TrainingJobDefinition") is not None:
        result["TrainingJobDefinition"] = echo_definition(defs[0])
    else:
        result["TrainingJobDefinitions"] = [echo_definition(d) for d in defs]
    for key in ("WarmStartConfig", "Autotune"):
        if request.get(key):
            result[key] = request[key]
    if job.end_time is not None:
        result["HyperParameterTuningEndTime"] = to_datetime(job.end_time)
    if job.failure_reason:
        result["FailureReason"] = job.failure_reason
    winner = best([v for v in views if v.job is not None], Direction(defs[0].objective["Type"]))
    if winner is not None:
        result["BestTrainingJob"] = child_summary(job, winner)
    if overall is not None:
        result["OverallBestTrainingJob"] = child_summary(*overall)
    details = completion_details(job.completion)
    if details:
        result["TuningJobCompletionDetails"] = details
    reason = completion_reason(job)
    if reason is not None:
        result["TrainplaneCompletionReason"] = reason  # trainplane extension
    return result


def completion_details(completion: Mapping[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if completion.get("jobs_not_improving") is not None:
        details["NumberOfTrainingJobsObjectiveNotImproving"] = int(completion["jobs_not_improving"])
    if completion.get("convergence_time") is not None:
        details["ConvergenceDetectedTime"] = to_datetime(completion["convergence_time"])
    return details


def job_summary(job: TuningJob, views: Sequence[ChildView]) -> dict[str, Any]:
    status_counters, objective_counters = counters(views)
    config = job.request["HyperParameterTuningJobConfig"]
    item: dict[str, Any] = {
        "HyperParameterTuningJobName": job.name,
        "HyperParameterTuningJobArn": job.arn,
        "HyperParameterTuningJobStatus": job.status,
        "Strategy": config["Strategy"],
        "CreationTime": to_datetime(job.creation_time),
        "LastModifiedTime": to_datetime(job.last_modified_time),
        "TrainingJobStatusCounters": status_counters,
        "ObjectiveStatusCounters": objective_counters,
        "ResourceLimits": config["ResourceLimits"],
    }
    if job.end_time is not None:
        item["HyperParameterTuningEndTime"] = to_datetime(job.end_time)
    return item
