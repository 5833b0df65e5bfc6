"""A built-in algorithm's own hyperparameter rules, applied when a tuning job is created.

SageMaker checks a tuning job's static hyperparameters and ranges against a built-in algorithm's
hyperparameter specification at CreateHyperParameterTuningJob, so a range the algorithm refuses fails
the request instead of failing child after child. trainplane runs the algorithm's own validation (the
one its jobs run first) on the static values with every range at its middle, then on each range's ends
(each categorical value in turn) with the other ranges at their middle. Combinations of two ranges'
ends are not tried: a rule that ties two tuned hyperparameters can still fail a child.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from trainplane.algorithms.registry import builtin_for_image
from trainplane.errors import ValidationError
from trainplane.service.tuning_definitions import OBJECTIVE_KEY, Definition
from trainplane.tuning import SearchSpace
from trainplane.tuning.space import Kind


def probe_configs(space: SearchSpace) -> Iterator[tuple[str | None, dict[str, str]]]:
    """``(tuned name or None, config)``: the middle of the space, then each range's ends."""
    middle = space.from_unit(np.full(space.dim, 0.5))
    yield None, middle
    for p in space.parameters:
        ends = p.values if p.kind is Kind.CATEGORICAL else (p.render(p.low), p.render(p.high))
        for value in dict.fromkeys(ends):  # an Integer range of one value has one end
            yield p.name, {**middle, p.name: value}


def check_builtin_hyperparameters(definition: Definition, space: SearchSpace) -> None:
    """Raise ``ValidationError`` when the definition's built-in algorithm would refuse a child."""
    builtin = builtin_for_image(definition.doc["AlgorithmSpecification"].get("TrainingImage"))
    static = definition.static
    if builtin is None or "sagemaker_program" in static:  # a script's hyperparameters are its own
        return
    where = f" in training job definition '{definition.name}'" if definition.name else ""
    for tuned, config in probe_configs(space):
        problem = builtin.hyperparameter_problem({**static, **config, OBJECTIVE_KEY: definition.metric_name})
        if problem is None:
            continue
        if tuned is None:  # the middle fails: blame the one tuned hyperparameter the problem names
            named = [n for n in config if re.search(rf"\b{re.escape(n)}\b", problem)]
            tuned = named[0] if len(named) == 1 else None
        if tuned is None:
            raise ValidationError(
                f"The hyperparameters{where} are not valid for the built-in algorithm {builtin.name} "
                f"(StaticHyperParameters with each range at its middle): {problem}"
            )
        raise ValidationError(
            f"The range of hyperparameter '{tuned}'{where} reaches values that the built-in algorithm "
            f"{builtin.name} does not accept ({tuned}={config[tuned]}): {problem}"
        )
