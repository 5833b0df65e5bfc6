"""Search strategies, one module each, behind the ``Strategy`` protocol in ``base``."""

from __future__ import annotations

from collections.abc import Mapping

from trainplane.tuning.space import RangeError, SearchSpace
from trainplane.tuning.strategies.base import Direction, History, Strategy, Trial, TrialStatus
from trainplane.tuning.strategies.bayesian import BayesianStrategy
from trainplane.tuning.strategies.grid import GridStrategy, grid_size
from trainplane.tuning.strategies.hyperband import (
    HyperbandStrategy,
    default_min_resource,
    epoch_count,
    infer_max_resource,
)
from trainplane.tuning.strategies.random import RandomStrategy


def make_strategy(
    name: str,
    space: SearchSpace,
    *,
    seed: int | None = None,
    hyperband: Mapping[str, int] | None = None,
    static_hyperparameters: Mapping[str, str] | None = None,
    cost_aware: bool = False,
) -> Strategy:
    """Build the strategy named by ``HyperParameterTuningJobConfig.Strategy``.

    ``hyperband`` is ``HyperbandStrategyConfig`` (``MinResource``/``MaxResource``); a missing
    MaxResource is inferred from ``static_hyperparameters`` (``infer_max_resource``), a missing
    MinResource defaults to a ninth of MaxResource (``default_min_resource``).
    """
    if name == "Random":
        return RandomStrategy(space, seed=seed)
    if name == "Bayesian":
        return BayesianStrategy(space, seed=seed, cost_aware=cost_aware)
    if name == "Grid":
        return GridStrategy(space, seed=seed)
    if name == "Hyperband":
        config = hyperband or {}
        max_resource = config.get("MaxResource") or infer_max_resource(static_hyperparameters or {})
        if max_resource is None:
            raise RangeError(
                "MaxResource must be specified in HyperbandStrategyConfig or inferable from a static "
                "hyperparameter (epochs, numepochs, n-epochs, n_epochs, num_epochs)."
            )
        min_resource = config.get("MinResource")
        return HyperbandStrategy(
            space,
            min_resource=int(min_resource) if min_resource is not None else None,
            max_resource=int(max_resource),
            seed=seed,
        )
    raise RangeError(f"Strategy '{name}' is not one of Bayesian, Random, Hyperband, Grid.")


__all__ = [
    "BayesianStrategy",
    "Direction",
    "GridStrategy",
    "History",
    "HyperbandStrategy",
    "RandomStrategy",
    "Strategy",
    "Trial",
    "TrialStatus",
    "default_min_resource",
    "epoch_count",
    "grid_size",
    "infer_max_resource",
    "make_strategy",
]
