"""CreateTrainingJob rules the botocore model cannot express (reference §3.10 items 2-6, §10.1).

Runs after :func:`trainplane.service.validation.validate_input`, so every member present already has the
right type and fits its shape. Messages follow SageMaker's wording where it is known ("Invalid
MaxWaitTimeInSeconds. ...") and its style elsewhere. Deliberately not enforced:
``CompressionType=Gzip`` / ``RecordWrapperType=RecordIO`` outside Pipe mode (SageMaker documents them as
"only meaningful" there, not as errors) and the 3600 s MaxWait cap for non-checkpointing built-ins (we cannot
tell from an image URI whether it checkpoints). Out-of-scope members (Debugger, Profiler, Experiment, ...)
are accepted untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainplane.errors import ValidationError
from trainplane.runtime.metrics import regex_problem

MAX_RUNTIME_SECONDS = 2_419_200  # 28 days
DEFAULT_MAX_RUNTIME_SECONDS = 86_400  # SageMaker's default when StoppingCondition omits it
MAX_HYPERPARAMETERS = 100
MAX_ENVIRONMENT = 100
_DATA_SOURCES = ("S3DataSource", "FileSystemDataSource", "DatasetSource")
# Checkpoints are synced by trainplane itself, which speaks s3:// and (as a documented extension) file://.
_CHECKPOINT_SCHEMES = ("s3://", "file://")


def check_create_training_job(request: Mapping[str, Any]) -> None:
    """Raise :class:`ValidationError` for the first semantic rule ``request`` breaks."""
    _check_required(request)
    _check_algorithm(request["AlgorithmSpecification"])
    _check_resources(request["ResourceConfig"])
    _check_channels(
        request.get("InputDataConfig") or [], request["AlgorithmSpecification"], request["ResourceConfig"]
    )
    _check_stopping(request["StoppingCondition"], bool(request.get("EnableManagedSpotTraining")))
    _check_counts(request)
    _check_checkpoint(request.get("CheckpointConfig"))


def _check_required(request: Mapping[str, Any]) -> None:
    # The model made these optional only for serverless jobs, which trainplane does not run; report them
    # the way SageMaker did when they were model-required.
    missing = [
        f"Value null at '{name[0].lower() + name[1:]}' failed to satisfy constraint: Member must not be null"
        for name in ("AlgorithmSpecification", "ResourceConfig", "StoppingCondition")
        if request.get(name) is None
    ]
    if missing:
        count = f"{len(missing)} validation error{'s' if len(missing) > 1 else ''} detected: "
        raise ValidationError(count + "; ".join(missing))


def _check_algorithm(spec: Mapping[str, Any]) -> None:
    image, algorithm = spec.get("TrainingImage"), spec.get("AlgorithmName")
    if image and algorithm:
        raise ValidationError(
            "Cannot specify both TrainingImage and AlgorithmName in AlgorithmSpecification; specify one."
        )
    if algorithm:
        raise ValidationError(
            f"AlgorithmName '{algorithm}' is not supported: trainplane runs training images only. "
            "Specify AlgorithmSpecification.TrainingImage (built-in algorithms are chosen by image URI)."
        )
    if not image:
        raise ValidationError(
            "Either TrainingImage or AlgorithmName must be specified in AlgorithmSpecification."
        )
    check_metric_definitions(spec)


def check_metric_definitions(spec: Mapping[str, Any], where: str = "") -> None:
    """Every MetricDefinitions regex must compile and capture a value: a job's metrics are scanned from
    its log by the control plane, which has no way to report a broken regex once the job runs."""
    for definition in spec.get("MetricDefinitions") or []:
        problem = regex_problem(definition["Name"], definition["Regex"])
        if problem is not None:
            raise ValidationError(f"Invalid MetricDefinitions{where}. {problem}")


def _check_resources(config: Mapping[str, Any]) -> None:
    groups = config.get("InstanceGroups")
    flat = config.get("InstanceType") is not None or config.get("InstanceCount") is not None
    if groups and flat:
        raise ValidationError(
            "ResourceConfig cannot specify both InstanceGroups and InstanceType/InstanceCount; choose one."
        )
    if groups:
        names = [group["InstanceGroupName"] for group in groups]
        _reject_duplicates(names, "Instance group names must be unique")
        for group in groups:
            _require_count(group["InstanceCount"], f"instance group '{group['InstanceGroupName']}'")
    elif config.get("InstanceType") is None or config.get("InstanceCount") is None:
        raise ValidationError(
            "ResourceConfig must specify InstanceType and InstanceCount, or InstanceGroups."
        )
    else:
        _require_count(config["InstanceCount"], "ResourceConfig")
    volume = config.get("VolumeSizeInGB")
    if volume is not None and volume < 1:
        raise ValidationError(f"Invalid VolumeSizeInGB {volume}: it must be greater than or equal to 1.")


def _require_count(count: int, where: str) -> None:
    if count < 1:
        raise ValidationError(
            f"Invalid InstanceCount {count} for {where}: it must be greater than or equal to 1."
        )


def _reject_duplicates(names: list[str], message: str) -> None:
    duplicates = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if duplicates:
        raise ValidationError(f"{message}: {', '.join(duplicates)}")


def _check_channels(
    channels: list[Mapping[str, Any]], spec: Mapping[str, Any], resources: Mapping[str, Any]
) -> None:
    groups = {group["InstanceGroupName"] for group in resources.get("InstanceGroups") or []}
    _reject_duplicates([channel["ChannelName"] for channel in channels], "Channel names must be unique")
    for channel in channels:
        name, source = channel["ChannelName"], channel["DataSource"]
        kinds = [kind for kind in _DATA_SOURCES if source.get(kind) is not None]
        if len(kinds) != 1:
            raise ValidationError(
                f"DataSource of channel '{name}' must specify exactly one of {', '.join(_DATA_SOURCES)}."
            )
        mode = channel.get("InputMode") or spec["TrainingInputMode"]
        s3 = source.get("S3DataSource") or {}
        unknown = [group for group in s3.get("InstanceGroupNames") or [] if group not in groups]
        if unknown:
            raise ValidationError(
                f"Channel '{name}' names instance groups that ResourceConfig.InstanceGroups does not "
                f"define: {', '.join(unknown)}."
            )
        if mode == "FastFile" and s3.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise ValidationError(
                f"Channel '{name}': FastFile input mode supports only S3DataType S3Prefix, "
                f"not {s3['S3DataType']}."
            )
        if s3.get("S3DataType") == "AugmentedManifestFile" and mode != "Pipe":
            raise ValidationError(
                f"Channel '{name}': AugmentedManifestFile requires Pipe input mode, not {mode}."
            )
        if kinds == ["FileSystemDataSource"] and mode != "File":
            raise ValidationError(
                f"Channel '{name}': FileSystemDataSource requires File input mode, not {mode}."
            )


def _check_stopping(stopping: Mapping[str, Any], spot: bool) -> None:
    runtime = stopping.get("MaxRuntimeInSeconds")
    wait = stopping.get("MaxWaitTimeInSeconds")
    if runtime is not None and runtime > MAX_RUNTIME_SECONDS:
        raise ValidationError(
            f"Invalid MaxRuntimeInSeconds {runtime}. It must be less than or equal to {MAX_RUNTIME_SECONDS}."
        )
    if wait is not None and not spot:
        raise ValidationError(
            "Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true"
        )
    # An absent MaxRuntimeInSeconds means SageMaker's one-day default, which MaxWait must still cover.
    if spot and (wait is None or wait < (runtime if runtime is not None else DEFAULT_MAX_RUNTIME_SECONDS)):
        raise ValidationError(
            "Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to "
            "MaxRuntimeInSeconds"
        )


def _check_counts(request: Mapping[str, Any]) -> None:
    # The model's map limits say the same; repeated so the rule holds for callers that skip validate_input.
    for member, what, limit in (
        ("HyperParameters", "hyperparameters", MAX_HYPERPARAMETERS),
        ("Environment", "environment variables", MAX_ENVIRONMENT),
    ):
        count = len(request.get(member) or {})
        if count > limit:
            raise ValidationError(f"The number of {what} ({count}) exceeds the maximum of {limit}.")


def _check_checkpoint(config: Mapping[str, Any] | None) -> None:
    if config is None:
        return
    uri = config["S3Uri"]
    if not uri.startswith(_CHECKPOINT_SCHEMES):
        raise ValidationError(f"Invalid CheckpointConfig.S3Uri '{uri}'. It must be an s3:// or file:// URI.")
