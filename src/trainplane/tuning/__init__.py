"""Pure hyperparameter-tuning logic: search spaces, strategies, stopping rules, completion criteria.

Nothing here touches the store, the clock or an executor: every decision is a function of a frozen
``History`` snapshot (plus a strategy's JSON ``state_dict``), so the control loop can persist,
replay and test it.
"""

from trainplane.tuning.completion import (
    CompletionCriteria,
    CompletionReason,
    CompletionStatus,
    check_completion,
    convergence_detected,
    jobs_not_improving,
    target_reached,
)
from trainplane.tuning.space import Kind, Parameter, RangeError, Scaling, SearchSpace, parse_parameter_ranges
from trainplane.tuning.stopping import MedianStoppingRule
from trainplane.tuning.strategies import (
    BayesianStrategy,
    Direction,
    GridStrategy,
    History,
    HyperbandStrategy,
    RandomStrategy,
    Strategy,
    Trial,
    TrialStatus,
    epoch_count,
    grid_size,
    infer_max_resource,
    make_strategy,
)

__all__ = [
    "BayesianStrategy",
    "CompletionCriteria",
    "CompletionReason",
    "CompletionStatus",
    "Direction",
    "GridStrategy",
    "History",
    "HyperbandStrategy",
    "Kind",
    "MedianStoppingRule",
    "Parameter",
    "RandomStrategy",
    "RangeError",
    "Scaling",
    "SearchSpace",
    "Strategy",
    "Trial",
    "TrialStatus",
    "check_completion",
    "convergence_detected",
    "epoch_count",
    "grid_size",
    "infer_max_resource",
    "jobs_not_improving",
    "make_strategy",
    "parse_parameter_ranges",
    "target_reached",
]
