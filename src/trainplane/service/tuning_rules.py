"""CreateHyperParameterTuningJob rules the botocore model cannot express (reference §7.8).

Runs after ``validate_input``, so every member present has the right type and fits its shape. Each
rule raises ``ValidationError`` (or ``ResourceLimitExceeded`` for quotas) with the first problem found.
Warm-start rules are in ``tuning_warm_start``. Our inferences where SageMaker does not document one:
all definitions of a multi-definition job share one objective Type (else no job is "best"), and
``StrategyConfig`` is accepted only with Hyperband.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from trainplane.errors import ResourceLimitExceeded, ValidationError
from trainplane.service.training_rules import check_metric_definitions
from trainplane.service.tuning_definitions import (
    BUDGET_TAG,
    COST_AWARE_TAG,
    OBJECTIVE_KEY,
    Definition,
    definitions,
    objective_regex,
    resource_choices,
)
from trainplane.spot.billing import on_demand_price
from trainplane.tuning import RangeError, SearchSpace, grid_size, make_strategy, parse_parameter_ranges

MAX_PARALLEL_QUOTA = 10
MAX_JOBS_QUOTA = {"Random": 10_000}
DEFAULT_MAX_JOBS_QUOTA = 750
MAX_HYPERPARAMETERS = 100
MAX_ENVIRONMENT = 48


def check_create_tuning_job(request: Mapping[str, Any]) -> list[SearchSpace]:
    """Raise for the first broken rule; return each definition's search space."""
    _check_form(request)
    config = request["HyperParameterTuningJobConfig"]
    defs = definitions(request)
    spaces = [_check_definition(d) for d in defs]
    if len({d.objective["Type"] for d in defs}) > 1:
        raise ValidationError("All training job definitions must use the same objective Type.")
    _check_strategy(config, defs, spaces)
    _check_limits(config, defs, spaces)
    environment = sum(len(d.doc.get("Environment") or {}) for d in defs)
    if environment > MAX_ENVIRONMENT:
        raise ValidationError(
            f"The number of environment variables ({environment}) across all training job definitions "
            f"exceeds the maximum of {MAX_ENVIRONMENT}."
        )
    _check_extension_tags(request)
    return spaces


def _check_extension_tags(request: Mapping[str, Any]) -> None:
    """trainplane's extension tags change what the job does, so a value they cannot mean is refused
    (a typo would otherwise switch the cap off, or a cap of 0 launch nothing and report Completed)."""
    strategy = request["HyperParameterTuningJobConfig"]["Strategy"]
    for tag in request.get("Tags") or []:
        key, value = tag.get("Key"), str(tag.get("Value", ""))
        if key == BUDGET_TAG:
            check_budget_tag(value, request)
        elif key == COST_AWARE_TAG:
            if value.lower() not in ("true", "false"):
                raise ValidationError(f"The tag {COST_AWARE_TAG} must be true or false, got {value!r}.")
            if value.lower() == "true" and strategy != "Bayesian":
                raise ValidationError(
                    f"The tag {COST_AWARE_TAG} applies to the Bayesian strategy only, not {strategy}."
                )


def check_budget_tag(value: str, request: Mapping[str, Any]) -> None:
    """The spend cap, at create and on AddTags alike: a dollar amount greater than 0, on a tuning job
    whose every instance type has a catalog price (an unpriced child would cost nothing against it)."""
    try:
        cap = float(value)
    except ValueError:
        cap = math.nan
    if not (math.isfinite(cap) and cap > 0):
        raise ValidationError(f"The tag {BUDGET_TAG} must be a dollar amount greater than 0, got {value!r}.")
    for definition in definitions(request):
        for resources in resource_choices(definition.doc):
            if on_demand_price(resources["InstanceType"]) is None:
                raise ValidationError(
                    f"The tag {BUDGET_TAG} needs a catalog price for every instance type the training jobs "
                    f"can use; trainplane's instance catalog has no price for {resources['InstanceType']}."
                )


def check_added_tags(request: Mapping[str, Any], tags: Sequence[Mapping[str, str]]) -> None:
    """AddTags on a tuning job (created from ``request``): the extension tags the tuner reads while it
    runs follow the rules they follow at create. (The cost-aware tag is read at create only.)"""
    for tag in tags:
        if tag.get("Key") == BUDGET_TAG:
            check_budget_tag(str(tag.get("Value", "")), request)


def _check_form(request: Mapping[str, Any]) -> None:
    single, multi = request.get("TrainingJobDefinition"), request.get("TrainingJobDefinitions")
    config = request["HyperParameterTuningJobConfig"]
    if (single is None) == (multi is None):
        raise ValidationError("Specify exactly one of TrainingJobDefinition or TrainingJobDefinitions.")
    if request.get("Autotune"):
        raise ValidationError("Autotune is not supported by trainplane; specify the ranges and limits.")
    if single is not None:
        if not config.get("HyperParameterTuningJobObjective"):
            raise ValidationError(
                "HyperParameterTuningJobObjective is required in HyperParameterTuningJobConfig "
                "when TrainingJobDefinition is used."
            )
        if config.get("ParameterRanges") is None:
            raise ValidationError(
                "ParameterRanges is required in HyperParameterTuningJobConfig when TrainingJobDefinition "
                "is used."
            )
        return
    if config.get("HyperParameterTuningJobObjective") or config.get("ParameterRanges"):
        raise ValidationError(
            "With TrainingJobDefinitions, specify TuningObjective and HyperParameterRanges in each "
            "definition, not in HyperParameterTuningJobConfig."
        )
    names = []
    for doc in multi or []:
        for member in ("DefinitionName", "TuningObjective", "HyperParameterRanges"):
            if doc.get(member) is None:
                raise ValidationError(f"Each of TrainingJobDefinitions must specify {member}.")
        names.append(doc["DefinitionName"])
    if len(set(names)) != len(names):
        raise ValidationError("DefinitionName must be unique among TrainingJobDefinitions.")
    if request.get("WarmStartConfig"):
        raise ValidationError("Warm start is not supported with multiple training job definitions.")
    if config.get("TrainingJobEarlyStoppingType", "Off") != "Off":
        raise ValidationError("Early stopping is not supported with multiple training job definitions.")


def _check_definition(definition: Definition) -> SearchSpace:
    doc, where = definition.doc, _where(definition)
    if doc["AlgorithmSpecification"].get("AlgorithmName"):
        raise ValidationError(
            "AlgorithmName is not supported by trainplane; specify AlgorithmSpecification.TrainingImage."
        )
    if not doc["AlgorithmSpecification"].get("TrainingImage"):
        raise ValidationError(f"TrainingImage is required in the AlgorithmSpecification{where}.")
    check_metric_definitions(doc["AlgorithmSpecification"], where)
    if objective_regex(doc, definition.metric_name) is None:
        raise ValidationError(
            f"The objective metric '{definition.metric_name}'{where} is not defined: it must be the Name "
            "of one of the MetricDefinitions (or a metric of the built-in algorithm)."
        )
    if definition.ranges.get("AutoParameters"):
        raise ValidationError("AutoParameters are supported only with Autotune, which trainplane lacks.")
    try:
        space = parse_parameter_ranges(definition.ranges)
    except RangeError as exc:
        raise ValidationError(str(exc)) from None
    static = definition.static
    both = sorted(set(space.names) & (set(static) | {OBJECTIVE_KEY}))
    if both:
        raise ValidationError(
            f"The hyperparameter{'s' if len(both) > 1 else ''} {', '.join(both)} cannot be both "
            f"static and tunable{where}."
        )
    total = len(static) + len(space.names) + 1
    if total > MAX_HYPERPARAMETERS:
        raise ValidationError(
            f"The number of static and tunable hyperparameters plus {OBJECTIVE_KEY} ({total}){where} "
            f"exceeds the maximum of {MAX_HYPERPARAMETERS}."
        )
    _check_resources(doc, where)
    stopping = doc["StoppingCondition"]
    if stopping.get("MaxWaitTimeInSeconds") is not None and not doc.get("EnableManagedSpotTraining"):
        raise ValidationError(
            "Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true"
        )
    return space


def _check_resources(doc: Mapping[str, Any], where: str) -> None:
    plain, tuning = doc.get("ResourceConfig"), doc.get("HyperParameterTuningResourceConfig")
    if (plain is None) == (tuning is None):
        raise ValidationError(
            f"Specify exactly one of ResourceConfig or HyperParameterTuningResourceConfig{where}."
        )
    if tuning is not None:
        flat = any(tuning.get(k) is not None for k in ("InstanceType", "InstanceCount", "VolumeSizeInGB"))
        if tuning.get("InstanceConfigs") and flat:
            raise ValidationError(
                "HyperParameterTuningResourceConfig cannot combine InstanceConfigs with InstanceType, "
                "InstanceCount or VolumeSizeInGB."
            )
        if not tuning.get("InstanceConfigs") and (
            not tuning.get("InstanceType") or tuning.get("InstanceCount") is None
        ):
            raise ValidationError(
                "HyperParameterTuningResourceConfig must specify InstanceType and InstanceCount, "
                "or InstanceConfigs."
            )


def _check_strategy(config: Mapping[str, Any], defs: list[Definition], spaces: list[SearchSpace]) -> None:
    strategy = config["Strategy"]
    early = config.get("TrainingJobEarlyStoppingType", "Off")
    if config.get("StrategyConfig") and strategy != "Hyperband":
        raise ValidationError("StrategyConfig is supported only with the Hyperband strategy.")
    if strategy == "Hyperband":
        if early != "Off":
            raise ValidationError(
                "TrainingJobEarlyStoppingType must be Off with the Hyperband strategy (it stops jobs itself)."
            )
        hyperband = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {}
        for definition, space in zip(defs, spaces, strict=True):
            try:
                make_strategy(
                    "Hyperband", space, seed=0, hyperband=hyperband, static_hyperparameters=definition.static
                )
            except RangeError as exc:
                raise ValidationError(str(exc)) from None
    if strategy == "Grid":
        try:
            combinations = sum(grid_size(space) for space in spaces)
        except RangeError as exc:
            raise ValidationError(str(exc)) from None
        given = config["ResourceLimits"].get("MaxNumberOfTrainingJobs")
        if given is not None and given != combinations:
            raise ValidationError(
                f"With the Grid strategy, MaxNumberOfTrainingJobs ({given}) must be omitted or equal the "
                f"number of combinations of the categorical ranges ({combinations})."
            )


def grid_combinations(spaces: list[SearchSpace]) -> int:
    return sum(grid_size(space) for space in spaces)


def _check_limits(config: Mapping[str, Any], defs: list[Definition], spaces: list[SearchSpace]) -> None:
    limits, strategy = config["ResourceLimits"], config["Strategy"]
    max_jobs = limits.get("MaxNumberOfTrainingJobs")
    if max_jobs is None and strategy != "Grid":
        raise ValidationError(
            "MaxNumberOfTrainingJobs is required in ResourceLimits (it may be omitted only for Grid)."
        )
    max_jobs = max_jobs if max_jobs is not None else grid_combinations(spaces)
    available = sum(space.combinations for space in spaces)
    if strategy != "Grid" and max_jobs > available:  # SageMaker's wording, as its users have reported it
        raise ValidationError(
            "You don't have enough combinations of hyperparameter ranges. The total number of "
            f"hyperparameter combinations for the provided ranges [{available:.1f}] must be equal or greater "
            f"than the value of MaxNumberOfJobs, [{max_jobs}]. Provide additional ranges."
        )
    parallel = limits["MaxParallelTrainingJobs"]
    if parallel > max_jobs:
        raise ValidationError(
            f"MaxParallelTrainingJobs ({parallel}) must be less than or equal to MaxNumberOfTrainingJobs "
            f"({max_jobs})."
        )
    if parallel > MAX_PARALLEL_QUOTA:
        raise ResourceLimitExceeded(
            f"The account-level service limit 'Number of parallel training jobs per tuning job' is "
            f"{MAX_PARALLEL_QUOTA}, with current utilization of 0 and a request delta of {parallel}."
        )
    quota = MAX_JOBS_QUOTA.get(strategy, DEFAULT_MAX_JOBS_QUOTA)
    if max_jobs > quota:
        raise ResourceLimitExceeded(
            f"The account-level service limit 'Number of training jobs per tuning job' for the {strategy} "
            f"strategy is {quota}; MaxNumberOfTrainingJobs is {max_jobs}."
        )


def _where(definition: Definition) -> str:
    return f" in training job definition '{definition.name}'" if definition.name else ""
