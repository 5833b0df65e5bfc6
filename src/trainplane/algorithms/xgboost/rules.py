"""Rules that relate several hyperparameters (objective and num_class, eval_metric and objective, ...).

Each rule gets the parsed values and raises :class:`UserError` with the container's wording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trainplane.algorithms.xgboost.errors import UserError
from trainplane.algorithms.xgboost.metrics import METRIC_NAMES

TREE_UPDATERS = (
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_local_histmaker",
    "grow_skmaker",
    "grow_quantile_histmaker",
    "sync",
    "refresh",
    "prune",
)
TREE_GROWERS = (
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_local_histmaker",
    "grow_skmaker",
    "grow_quantile_histmaker",
)
LINEAR_UPDATERS = ("shotgun", "coord_descent")
THRESHOLD_METRICS = ("error", "ndcg", "map")
DEFAULT_OBJECTIVE = "reg:squarederror"
MULTICLASS = ("multi:softmax", "multi:softprob")

Values = dict[str, Any]


def _objective_and_num_class(values: Values) -> None:
    objective, num_class = values.get("objective"), values.get("num_class")
    if objective in MULTICLASS and num_class is None:
        raise UserError("Require input for parameter 'num_class' for multi-classification")
    if num_class is not None and objective is None:
        raise UserError(
            "Do not need to setup parameter 'num_class' for learning task other than multi-classification."
        )


def check_metric_name(metric: str) -> None:
    """One ``eval_metric`` entry: a known name, or ``error@t`` / ``ndcg@n`` / ``map@n``."""
    if "<function" in metric:
        raise UserError(f"User defined evaluation metric {metric} is not supported yet.")
    if "@" in metric:
        name, _, threshold = metric.partition("@")
        if name.strip() not in THRESHOLD_METRICS:
            raise UserError(
                f"Metric '{metric}' is not supported. Parameter 'eval_metric' with customized threshold "
                "should be one of these options: 'error', 'ndcg', 'map'."
            )
        try:
            float(threshold.strip().rstrip("-"))  # ndcg@n- / map@n- are XGBoost spellings
        except ValueError:
            raise UserError(f"Threshold value 't' in '{name}@t' expects float input.") from None
        return
    if metric not in METRIC_NAMES:
        raise UserError(f"Hyperparameter eval_metric: value {metric} not in range {list(METRIC_NAMES)}")


def _eval_metric(values: Values) -> None:
    metrics = values.get("eval_metric") or []
    for metric in metrics:
        check_metric_name(metric)
    objective = values.get("objective", DEFAULT_OBJECTIVE)
    if "auc" in metrics and not objective.startswith(("binary:", "rank:")):
        raise UserError("Metric 'auc' can only be applied for classification and ranking problems.")
    if "aft-nloglik" in metrics and objective != "survival:aft":
        raise UserError("Metric 'aft-nloglik' can only be applied for 'survival:aft' objective.")


def _tuning_objective(values: Values) -> None:
    metric = values.get("_tuning_objective_metric")
    if metric is None:
        return
    split, _, name = metric.partition(":")
    if split not in ("train", "validation") or name not in METRIC_NAMES:
        raise UserError(f"Hyperparameter _tuning_objective_metric: value {metric} is not a supported metric")


def _updater(values: Values) -> None:
    updaters = values.get("updater")
    if updaters is None:
        return
    if values.get("booster") == "gblinear":
        if not (len(updaters) == 1 and updaters[0] in LINEAR_UPDATERS):
            raise UserError("Linear updater should be one of these options: 'shotgun', 'coord_descent'.")
    elif values.get("process_type") == "update":
        if not all(u in ("refresh", "prune") for u in updaters):
            raise UserError("process_type 'update' can only be used with updater 'refresh' and 'prune'")
    elif not all(u in TREE_UPDATERS for u in updaters):
        raise UserError(f"Tree updater should be selected from these options: {', '.join(TREE_UPDATERS)}.")
    elif sum(u in TREE_GROWERS for u in updaters) > 1:
        raise UserError(
            f"Only one tree grow plugin can be selected. Choose one from: {', '.join(TREE_GROWERS)}"
        )


def _constraints(values: Values) -> None:
    tree_method = values.get("tree_method")
    if "monotone_constraints" in values and tree_method not in ("exact", "hist"):
        raise UserError(
            "monotone_constraints can be used only when the tree_method parameter is set to either "
            "'exact' or 'hist'."
        )
    if "interaction_constraints" in values and tree_method not in ("exact", "hist", "approx"):
        raise UserError(
            "interaction_constraints can be used only when the tree_method parameter is set to either "
            "'exact', 'hist' or 'approx'."
        )


def _unsupported(values: Values) -> None:
    if "_kfold" in values or "_num_cv_round" in values:
        raise UserError("k-fold cross-validation (_kfold, _num_cv_round) is not supported by trainplane yet.")
    if values.get("use_dask_gpu_training") == "true":
        raise UserError("use_dask_gpu_training is not supported: trainplane's XGBoost trains on CPUs.")


RULES: tuple[Callable[[Values], None], ...] = (
    _objective_and_num_class,
    _eval_metric,
    _tuning_objective,
    _updater,
    _constraints,
    _unsupported,
)


def check(values: Values) -> None:
    """Apply every cross-parameter rule; raises :class:`UserError` on the first violation."""
    for rule in RULES:
        rule(values)
