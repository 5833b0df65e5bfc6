"""Warm start (reference §7.7): which parents are allowed, and the results they hand down.

Rules checked, each with its own message: at most 5 parents (the model), every parent exists and is
terminal, single-definition parents only, the same objective (name and type), the same total number of
static plus tunable hyperparameters, unchanged parameter types where a name is tunable in both, at most
10 changes, strategy Bayesian or Random, and for IdenticalDataAndAlgorithm the same input data and
training image. Counting changes (the docs' examples): making a tunable categorical static counts its
number of values, a tunable numeric range made static (or the reverse) counts 1, changing a static
value counts 2. Parents' children count against the strategy's quota (750, Random 10 000), not
against MaxNumberOfTrainingJobs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trainplane.errors import ResourceLimitExceeded, ValidationError
from trainplane.service.tuning_definitions import OBJECTIVE_KEY, Definition, definitions
from trainplane.service.tuning_rules import DEFAULT_MAX_JOBS_QUOTA, MAX_JOBS_QUOTA
from trainplane.store.tuning_repository import TERMINAL, TuningJob
from trainplane.tuning import Kind, SearchSpace, parse_parameter_ranges

MAX_CHANGES = 10
Lookup = Callable[[str], TuningJob | None]


def check_warm_start(
    request: Mapping[str, Any], spaces: list[SearchSpace], lookup: Lookup, children: Callable[[str], int]
) -> list[TuningJob]:
    """Raise for the first broken warm-start rule; return the parent tuning jobs."""
    warm = request.get("WarmStartConfig")
    if not warm:
        return []
    config = request["HyperParameterTuningJobConfig"]
    if config["Strategy"] not in ("Bayesian", "Random"):
        raise ValidationError("Warm start is supported only with the Bayesian and Random strategies.")
    mine, space = definitions(request)[0], spaces[0]
    parents = []
    for item in warm["ParentHyperParameterTuningJobs"]:
        parent = _parent(item.get("HyperParameterTuningJobName", ""), lookup)
        _check_parent(mine, space, parent, warm["WarmStartType"])
        parents.append(parent)
    inherited = sum(children(p.name) for p in parents)
    quota = MAX_JOBS_QUOTA.get(config["Strategy"], DEFAULT_MAX_JOBS_QUOTA)
    total = inherited + config["ResourceLimits"]["MaxNumberOfTrainingJobs"]
    if total > quota:
        raise ResourceLimitExceeded(
            f"The parents' {inherited} training jobs plus MaxNumberOfTrainingJobs exceed the limit of "
            f"{quota} training jobs per tuning job."
        )
    return parents


def _parent(name: str, lookup: Lookup) -> TuningJob:
    parent = lookup(name) if name else None
    if parent is None:
        raise ValidationError(f"The parent hyperparameter tuning job {name!r} does not exist.")
    if parent.status not in TERMINAL:
        raise ValidationError(
            f"The parent hyperparameter tuning job {parent.name} is {parent.status}; parents must be "
            "Completed, Stopped or Failed."
        )
    if parent.request.get("TrainingJobDefinitions"):
        raise ValidationError(
            f"The parent hyperparameter tuning job {parent.name} uses multiple training job definitions, "
            "which warm start does not support."
        )
    return parent


def _check_parent(mine: Definition, space: SearchSpace, parent: TuningJob, kind: str) -> None:
    theirs = definitions(parent.request)[0]
    if dict(theirs.objective) != dict(mine.objective):
        raise ValidationError(
            f"The objective of parent {parent.name} ({theirs.objective['Type']} "
            f"{theirs.metric_name}) differs from this job's ({mine.objective['Type']} {mine.metric_name})."
        )
    parent_space = parse_parameter_ranges(theirs.ranges)
    _check_hyperparameters(mine, space, theirs, parent_space, parent.name)
    if kind == "IdenticalDataAndAlgorithm":
        for member, label in (
            ("InputDataConfig", "input data"),
            ("AlgorithmSpecification", "training image"),
        ):
            a, b = mine.doc.get(member), theirs.doc.get(member)
            if member == "AlgorithmSpecification":
                a, b = (a or {}).get("TrainingImage"), (b or {}).get("TrainingImage")
            if a != b:
                raise ValidationError(
                    f"WarmStartType IdenticalDataAndAlgorithm requires the same {label} as parent "
                    f"{parent.name}; use TransferLearning to change it."
                )


def _check_hyperparameters(
    mine: Definition, space: SearchSpace, theirs: Definition, parent_space: SearchSpace, parent: str
) -> None:
    my_static = {k: v for k, v in mine.static.items() if k != OBJECTIVE_KEY}
    their_static = {k: v for k, v in theirs.static.items() if k != OBJECTIVE_KEY}
    if len(my_static) + len(space.names) != len(their_static) + len(parent_space.names):
        raise ValidationError(
            f"The total number of static and tunable hyperparameters must equal parent {parent}'s "
            f"({len(their_static) + len(parent_space.names)})."
        )
    mine_tuned = {p.name: p for p in space.parameters}
    their_tuned = {p.name: p for p in parent_space.parameters}
    for name in set(mine_tuned) & set(their_tuned):
        if mine_tuned[name].kind != their_tuned[name].kind:
            raise ValidationError(
                f"The type of hyperparameter {name} changed from {their_tuned[name].kind.value} to "
                f"{mine_tuned[name].kind.value}; warm start requires unchanged types."
            )
    changes = count_changes(my_static, mine_tuned, their_static, their_tuned)
    if changes > MAX_CHANGES:
        raise ValidationError(
            f"Warm start allows at most {MAX_CHANGES} changes of static and tunable hyperparameters "
            f"relative to parent {parent}; this job makes {changes}."
        )


def count_changes(
    my_static: Mapping[str, str],
    mine: Mapping[str, Any],
    their_static: Mapping[str, str],
    theirs: Mapping[str, Any],
) -> int:
    changes = 0
    for name in set(my_static) | set(mine) | set(their_static) | set(theirs):
        tuned = mine.get(name) or theirs.get(name)
        if name in my_static and name in their_static:
            changes += 0 if my_static[name] == their_static[name] else 2
        elif name in mine and name in theirs:
            continue
        elif tuned is not None and (name in my_static or name in their_static):
            changes += len(tuned.values) if tuned.kind is Kind.CATEGORICAL else 1
        else:
            changes += 1  # a hyperparameter only one of the two jobs has
    return changes
