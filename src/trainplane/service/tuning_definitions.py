"""Training-job definitions of a tuning job: their objectives, their echo, and the children they make.

A tuning request holds one ``TrainingJobDefinition`` (objective and ranges in the tuning config) or up
to ten ``TrainingJobDefinitions`` (each with its own). ``definitions`` gives both forms one shape. The
store keeps the request as validated; Describe echoes it through ``echo_definition``, which adds what
SageMaker adds (``_tuning_objective_metric``, the built-in algorithm's MetricDefinitions plus
``ObjectiveMetric``, ``ResourceConfig`` and ``HyperParameterTuningResourceConfig`` both).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trainplane.algorithms.registry import builtin_for_image
from trainplane.tuning import Strategy, make_strategy, parse_parameter_ranges

OBJECTIVE_KEY = "_tuning_objective_metric"
OBJECTIVE_METRIC = "ObjectiveMetric"
MAX_METRIC_DEFINITIONS = 40
_COPIED = (
    "RoleArn", "InputDataConfig", "VpcConfig", "OutputDataConfig", "StoppingCondition",
    "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining",
    "RetryStrategy", "Environment",
)  # fmt: skip
_FLAT_RESOURCES = ("InstanceType", "InstanceCount", "VolumeSizeInGB", "VolumeKmsKeyId")


@dataclass(frozen=True)
class Definition:
    name: str | None  # DefinitionName; None in the single-definition form
    doc: Mapping[str, Any]  # HyperParameterTrainingJobDefinition as validated
    objective: Mapping[str, str]  # {"Type": Maximize|Minimize, "MetricName": ...}
    ranges: Mapping[str, Any]  # ParameterRanges

    @property
    def metric_name(self) -> str:
        return self.objective["MetricName"]

    @property
    def static(self) -> dict[str, str]:
        return dict(self.doc.get("StaticHyperParameters") or {})


def definitions(request: Mapping[str, Any]) -> list[Definition]:
    config = request["HyperParameterTuningJobConfig"]
    if request.get("TrainingJobDefinition") is not None:
        doc = request["TrainingJobDefinition"]
        return [
            Definition(
                doc.get("DefinitionName"),
                doc,
                config.get("HyperParameterTuningJobObjective") or {},
                config.get("ParameterRanges") or {},
            )
        ]
    return [
        Definition(
            d.get("DefinitionName"), d, d.get("TuningObjective") or {}, d.get("HyperParameterRanges") or {}
        )
        for d in request.get("TrainingJobDefinitions") or []
    ]


def builtin_metrics(doc: Mapping[str, Any]) -> list[dict[str, str]] | None:
    """The service-filled MetricDefinitions of a built-in algorithm image, None for other images."""
    spec = doc["AlgorithmSpecification"]
    builtin = builtin_for_image(spec.get("TrainingImage"))
    if builtin is None or "sagemaker_program" in (doc.get("StaticHyperParameters") or {}):
        return None
    return builtin.metric_definitions(dict(doc.get("StaticHyperParameters") or {}))


def metric_definitions(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    """The definitions that scan a child's log: the user's, else the built-in algorithm's."""
    given = doc["AlgorithmSpecification"].get("MetricDefinitions")
    if given:
        return [dict(d) for d in given]
    return builtin_metrics(doc) or []


def objective_regex(doc: Mapping[str, Any], metric_name: str) -> str | None:
    for item in metric_definitions(doc):
        if item["Name"] == metric_name:
            return item["Regex"]
    return None


def resource_config(
    doc: Mapping[str, Any], fits: Callable[[Mapping[str, Any]], bool] | None = None
) -> dict[str, Any]:
    """ResourceConfig of a child, from ResourceConfig or HyperParameterTuningResourceConfig.

    ``InstanceConfigs`` are in priority order (AllocationStrategy ``Prioritized``): where SageMaker moves
    to the next choice when it lacks capacity for one, a child here gets the first choice that ``fits``
    this machine or Ray cluster at all, else the first (whose capacity error then says why).
    """
    if doc.get("ResourceConfig"):
        return dict(doc["ResourceConfig"])
    tuning = doc.get("HyperParameterTuningResourceConfig") or {}
    if tuning.get("InstanceConfigs"):
        keys = ("InstanceType", "InstanceCount", "VolumeSizeInGB")
        choices = [{k: c[k] for k in keys} for c in tuning["InstanceConfigs"]]
        return next((c for c in choices if fits is not None and fits(c)), choices[0])
    return {k: tuning[k] for k in _FLAT_RESOURCES if k in tuning}


def resource_choices(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every ResourceConfig a child of this definition can get (``resource_config`` picks one)."""
    tuning = doc.get("HyperParameterTuningResourceConfig") or {}
    if not doc.get("ResourceConfig") and tuning.get("InstanceConfigs"):
        keys = ("InstanceType", "InstanceCount", "VolumeSizeInGB")
        return [{k: c[k] for k in keys} for c in tuning["InstanceConfigs"]]
    return [resource_config(doc)]


def echo_ranges(ranges: Mapping[str, Any]) -> dict[str, Any]:
    """ParameterRanges with all three lists, empty ones included, as Describe returns them."""
    return {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
        "CategoricalParameterRanges": [],
        **copy.deepcopy(dict(ranges)),
    }


def echo_definition(definition: Definition) -> dict[str, Any]:
    doc = copy.deepcopy(dict(definition.doc))
    if "HyperParameterRanges" in doc:
        doc["HyperParameterRanges"] = echo_ranges(doc["HyperParameterRanges"])
    doc["StaticHyperParameters"] = {**definition.static, OBJECTIVE_KEY: definition.metric_name}
    spec = doc["AlgorithmSpecification"]
    builtin = builtin_metrics(doc)
    if builtin is not None and not spec.get("MetricDefinitions"):
        regex = objective_regex(doc, definition.metric_name)
        extra = [{"Name": OBJECTIVE_METRIC, "Regex": regex}] if regex else []
        spec["MetricDefinitions"] = builtin + extra
    resources = resource_config(doc)
    doc["ResourceConfig"] = resources
    doc.setdefault("HyperParameterTuningResourceConfig", {k: v for k, v in resources.items()})
    return doc


def child_name(tuning_name: str, arn: str, creation_time: float, index: int) -> str:
    """``<tuning name>-NNN-<8 hex>``; deterministic, so a relaunch after a crash finds the same name."""
    digest = hashlib.sha256(f"{arn}|{creation_time!r}|{index}".encode()).hexdigest()[:8]
    return f"{tuning_name}-{index:03d}-{digest}"


def child_request(
    definition: Definition,
    name: str,
    config: Mapping[str, str],
    tags: list[dict[str, str]],
    fits: Callable[[Mapping[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """The CreateTrainingJob request of one child."""
    doc = definition.doc
    spec = {k: doc["AlgorithmSpecification"][k] for k in ("TrainingImage", "TrainingInputMode")}
    given = doc["AlgorithmSpecification"].get("MetricDefinitions")
    if given:
        regex = objective_regex(doc, definition.metric_name)
        extra = [{"Name": OBJECTIVE_METRIC, "Regex": regex}] if regex else []
        spec["MetricDefinitions"] = [dict(d) for d in given] + extra[: MAX_METRIC_DEFINITIONS - len(given)]
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": spec,
        "HyperParameters": {**definition.static, **config, OBJECTIVE_KEY: definition.metric_name},
        "ResourceConfig": resource_config(doc, fits),
    }
    for key in _COPIED:
        if doc.get(key) is not None:
            request[key] = copy.deepcopy(doc[key])
    if doc.get("CheckpointConfig"):
        # Each child checkpoints under its own prefix, or children would resume from each other.
        checkpoint = dict(doc["CheckpointConfig"])
        checkpoint["S3Uri"] = checkpoint["S3Uri"].rstrip("/") + "/" + name
        request["CheckpointConfig"] = checkpoint
    if tags:
        request["Tags"] = [dict(t) for t in tags]
    return request


def builtin_child_definitions(definition: Definition) -> list[dict[str, str]] | None:
    """For built-in images without user MetricDefinitions: the full list plus ObjectiveMetric, which
    exceeds CreateTrainingJob's 40 and so is set on the stored child right after creation."""
    if definition.doc["AlgorithmSpecification"].get("MetricDefinitions"):
        return None
    builtin = builtin_metrics(definition.doc)
    if builtin is None:
        return None
    regex = objective_regex(definition.doc, definition.metric_name)
    return builtin + ([{"Name": OBJECTIVE_METRIC, "Regex": regex}] if regex else [])


def strategy_seed(request: Mapping[str, Any], position: int) -> int | None:
    """RandomSeed + position; a warm start mixes in its parents' names. A child job given its parent's
    RandomSeed would otherwise draw the parent's sequence again and re-run the parent's configurations
    (the initial design of Bayesian, every draw of Random), which its history already holds. The same
    request still gives the same sequence."""
    seed = request["HyperParameterTuningJobConfig"].get("RandomSeed")
    if seed is None:
        return None
    parents = sorted(
        p["HyperParameterTuningJobName"].lower()
        for p in (request.get("WarmStartConfig") or {}).get("ParentHyperParameterTuningJobs", [])
    )
    if parents:
        digest = hashlib.sha256(f"{int(seed)}|{'|'.join(parents)}".encode()).digest()
        seed = int.from_bytes(digest[:4], "big")
    return int(seed) + position


COST_AWARE_TAG = "trainplane:cost-aware-acquisition"
BUDGET_TAG = (
    "trainplane:max-cost-usd"  # trainplane extension: the tuning job's spend cap (control.tuning_cost)
)
BUDGET_REASON = "trainplane:MaxCostUSD"  # the completion reason stored once that budget is spent


def cost_aware(request: Mapping[str, Any]) -> bool:
    """trainplane extension (off by default): the tag ``trainplane:cost-aware-acquisition = true`` makes a
    Bayesian tuning job rank candidates by expected improvement per expected dollar."""
    return any(
        t.get("Key") == COST_AWARE_TAG and t.get("Value", "").lower() == "true"
        for t in request.get("Tags", [])
    )


def build_strategies(request: Mapping[str, Any]) -> list[Strategy]:
    """One fresh strategy per definition, seeded from RandomSeed (definition i gets seed + i)."""
    config = request["HyperParameterTuningJobConfig"]
    hyperband = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig")
    return [
        make_strategy(
            config["Strategy"],
            parse_parameter_ranges(d.ranges),
            seed=strategy_seed(request, i),
            hyperband=hyperband,
            static_hyperparameters=d.static,
            cost_aware=cost_aware(request),
        )
        for i, d in enumerate(definitions(request))
    ]
