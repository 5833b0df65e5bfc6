"""Training-job operations with SageMaker semantics: Create, Describe, List, Stop, Delete, tags."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from trainplane.algorithms.registry import builtin_for_image
from trainplane.catalog import capacity, instances
from trainplane.clock import Clock, to_datetime
from trainplane.errors import ResourceLimitExceeded, ResourceNotFound, ValidationError
from trainplane.job_files import remove_job_files
from trainplane.service import describe
from trainplane.service.arns import model_artifacts_uri, training_job_arn
from trainplane.service.pagination import decode_token, encode_token, list_filters
from trainplane.service.tags import check_new_tags, check_tag_keys
from trainplane.service.training_rules import check_create_training_job
from trainplane.service.unsupported import check_runnable
from trainplane.service.validation import validate_input
from trainplane.settings import Settings
from trainplane.states import JobStatus
from trainplane.store import Store
from trainplane.store.repository import list_position

_NOT_FOUND = "Requested resource not found."
DEFAULT_MAX_RUNTIME = 86400


class TrainingService:
    """The operations; every entry point (HTTP, CLI, Python API) goes through here."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        machine: capacity.Resources | None = None,
        on_change: Callable[[], None] | None = None,
        *,
        refuse_unrunnable: bool = True,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.machine = machine or capacity.machine_resources(
            settings.machine_cpus, settings.machine_memory_gib, oversubscription=settings.oversubscription
        )
        self._on_change = on_change or (lambda: None)
        # False for the simulated executor, which runs no program (service.unsupported).
        self.refuse_unrunnable = refuse_unrunnable
        # Other resource kinds (tuning jobs) register how to tell whether an ARN of theirs exists.
        self._resource_lookups: list[Callable[[str, str], bool]] = []
        # ... and what AddTags must refuse on them: ``check(kind, name, tags)`` raises ValidationError.
        self._tag_checks: list[Callable[[str, str, list[dict[str, str]]], None]] = []

    def set_on_change(self, callback: Callable[[], None]) -> None:
        self._on_change = callback

    def register_resource_lookup(self, exists: Callable[[str, str], bool]) -> None:
        """``exists(kind, name)`` answers for ARNs of another resource kind (for the tag operations)."""
        self._resource_lookups.append(exists)

    def register_tag_check(self, check: Callable[[str, str, list[dict[str, str]]], None]) -> None:
        """``check(kind, name, tags)`` raises for tags AddTags must refuse on another resource kind."""
        self._tag_checks.append(check)

    # ------------------------------------------------------------------ create
    def create_training_job(
        self, params: dict[str, Any], *, tuning_job_arn: str | None = None
    ) -> dict[str, Any]:
        request = validate_input("CreateTrainingJob", params)
        check_create_training_job(request)
        if self.refuse_unrunnable:
            check_runnable(request)
        check_new_tags((), request.get("Tags", []))
        self.check_capacity(request["ResourceConfig"])
        self._check_input_modes(request)
        name = request["TrainingJobName"]
        arn = training_job_arn(self.settings.region, self.settings.account_id, name)
        echoed = _with_echo_defaults(request)
        output = echoed["OutputDataConfig"]
        self.store.create_training_job(
            name=name,
            arn=arn,
            request=echoed,
            model_artifacts=model_artifacts_uri(output["S3OutputPath"], name, output["CompressionType"]),
            now=self.clock.now(),
            tuning_job_arn=tuning_job_arn,
            tags=request.get("Tags", []),
        )
        self._on_change()
        return {"TrainingJobArn": arn}

    def fits(self, resource_config: Mapping[str, Any]) -> bool:
        """Whether ``InstanceCount`` x ``InstanceType`` is in the catalog and fits this machine (or the
        Ray cluster) at all, busy or not."""
        instance = instances.lookup(resource_config["InstanceType"])
        return instance is not None and self.machine.covers(
            capacity.demand(instance, resource_config["InstanceCount"])
        )

    def check_capacity(self, resource_config: Mapping[str, Any]) -> None:
        """Raise the error a CreateTrainingJob with this ResourceConfig would get for its size."""
        if resource_config.get("InstanceGroups"):
            raise ValidationError(
                "InstanceGroups (heterogeneous clusters) are not supported by trainplane; "
                "use InstanceType and InstanceCount."
            )
        name = resource_config["InstanceType"]
        instance = instances.lookup(name)
        if instance is None:
            raise ValidationError(f"Instance type {name} is not in trainplane's instance catalog.")
        if instance.neuron_cores:
            raise ResourceLimitExceeded(
                f"{name} needs {instance.neuron_cores} Neuron cores (AWS Trainium); trainplane runs no "
                "Neuron devices. Choose a CPU or GPU instance type."
            )
        count = resource_config["InstanceCount"]
        need = capacity.demand(instance, count)
        if not self.machine.covers(need):
            raise ResourceLimitExceeded(
                capacity.shortfall(
                    name,
                    count,
                    need,
                    self.machine,
                    cluster=self.settings.executor == "ray",
                    oversubscription=self.settings.oversubscription,
                )
            )

    def _check_input_modes(self, request: dict[str, Any]) -> None:
        spec = request["AlgorithmSpecification"]
        builtin = builtin_for_image(spec.get("TrainingImage"))
        if builtin is None or builtin.supports_pipe or _is_script_mode(request):
            return
        default_mode = spec["TrainingInputMode"]
        for channel in request.get("InputDataConfig", []):
            if channel.get("InputMode", default_mode) == "Pipe":
                raise ValidationError(
                    f"The algorithm {builtin.name} does not support Pipe input mode "
                    f"(channel {channel['ChannelName']}); use File mode."
                )

    # ------------------------------------------------------------------ describe / list
    def describe_training_job(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("DescribeTrainingJob", params)
        job = self.store.get_training_job(request["TrainingJobName"])
        if job is None:
            raise ValidationError(_NOT_FOUND)
        return describe.describe(job, self.store, self.clock.now())

    def list_training_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("ListTrainingJobs", params)
        if request.get("WarmPoolStatusEquals") or request.get("TrainingPlanArnEquals"):
            # trainplane keeps no warm pools (KeepAlivePeriodInSeconds is accepted; a local job starts
            # without provisioning) and has no training plans, so no job matches either filter.
            return {"TrainingJobSummaries": []}
        limit = request.get("MaxResults", 10)
        filters = list_filters(request, default_sort="CreationTime")
        after = decode_token(request.get("NextToken"), filters)
        jobs = self.store.list_training_jobs(**filters, after=after, limit=limit + 1)
        result: dict[str, Any] = {"TrainingJobSummaries": [describe.summary(j) for j in jobs[:limit]]}
        if len(jobs) > limit:
            result["NextToken"] = encode_token(list_position(jobs[limit - 1], filters["sort_by"]), filters)
        return result

    # ------------------------------------------------------------------ stop / delete
    def stop_training_job(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("StopTrainingJob", params)
        name = request["TrainingJobName"]
        job = self.store.get_training_job(name)
        if job is None:
            raise ValidationError(_NOT_FOUND)
        stopped = self.store.request_stop(
            name, reason="Stopped", now=self.clock.now(), message="Stopping the training job"
        )
        if stopped is None:
            current = self.store.get_training_job(name)
            status = current.status if current else job.status
            raise ValidationError(f"The request was rejected because the training job is in status {status}.")
        self._on_change()
        return {}

    def delete_training_job(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("DeleteTrainingJob", params)
        name = request["TrainingJobName"]
        if not self.store.delete_training_job(name):
            raise ResourceNotFound(_NOT_FOUND)
        # After the rows: a job is never left without its files while it is still listed.
        remove_job_files(self.settings.jobs_root, name)
        return {}

    # ------------------------------------------------------------------ tags
    def add_tags(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("AddTags", params)
        self._require_resource(request["ResourceArn"])
        existing = (t["Key"] for t in self.store.list_tags(request["ResourceArn"]))
        check_new_tags(existing, request["Tags"])
        kind, _, name = request["ResourceArn"].rpartition(":")[2].partition("/")
        for check in self._tag_checks:
            check(kind, name, request["Tags"])
        self.store.add_tags(request["ResourceArn"], request["Tags"])
        return {"Tags": request["Tags"]}

    def list_tags(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("ListTags", params)
        self._require_resource(request["ResourceArn"])
        return {"Tags": self.store.list_tags(request["ResourceArn"])}

    def delete_tags(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("DeleteTags", params)
        self._require_resource(request["ResourceArn"])
        check_tag_keys(request["TagKeys"])
        self.store.delete_tags(request["ResourceArn"], request["TagKeys"])
        return {}

    def _require_resource(self, arn: str) -> None:
        kind, _, name = arn.rpartition(":")[2].partition("/")
        if kind == "training-job" and self.store.get_training_job(name) is not None:
            return
        if any(exists(kind, name) for exists in self._resource_lookups):
            return
        raise ResourceNotFound(f"Resource {arn} not found.")

    # ------------------------------------------------------------------ helpers for callers
    def job_status(self, name: str) -> JobStatus:
        job = self.store.get_training_job(name)
        if job is None:
            raise ValidationError(_NOT_FOUND)
        return JobStatus(job.status)


def _is_script_mode(request: dict[str, Any]) -> bool:
    spec = request["AlgorithmSpecification"]
    hyperparameters = request.get("HyperParameters", {})
    return "sagemaker_program" in hyperparameters or bool(spec.get("ContainerEntrypoint"))


def _with_echo_defaults(request: dict[str, Any]) -> dict[str, Any]:
    """The request as Describe echoes it: SageMaker's explicit defaults filled in."""
    echoed = json.loads(json.dumps(request, default=str))
    spec = echoed["AlgorithmSpecification"]
    spec.setdefault("EnableSageMakerMetricsTimeSeries", False)
    builtin = builtin_for_image(spec.get("TrainingImage"))
    if builtin is not None and not _is_script_mode(echoed) and not spec.get("MetricDefinitions"):
        spec["MetricDefinitions"] = builtin.metric_definitions(echoed.get("HyperParameters"))
    output = echoed["OutputDataConfig"]
    output.setdefault("KmsKeyId", "")
    output.setdefault("CompressionType", "GZIP")
    for channel in echoed.get("InputDataConfig", []):
        channel.setdefault("CompressionType", "None")
        channel.setdefault("RecordWrapperType", "None")
        s3 = channel["DataSource"].get("S3DataSource")
        if s3 is not None:
            s3.setdefault("S3DataDistributionType", "FullyReplicated")
    echoed["StoppingCondition"].setdefault("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME)
    echoed.setdefault("HyperParameters", {})
    for flag in (
        "EnableNetworkIsolation",
        "EnableInterContainerTrafficEncryption",
        "EnableManagedSpotTraining",
    ):
        echoed.setdefault(flag, False)
    echoed.pop("Tags", None)
    return echoed


__all__ = ["TrainingService", "to_datetime"]
