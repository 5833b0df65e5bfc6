"""Validated hyperparameters split into what the job loop needs and what goes to ``xgboost.train``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trainplane.algorithms.xgboost.metrics import CUSTOM_METRICS, is_maximized
from trainplane.algorithms.xgboost.rules import DEFAULT_OBJECTIVE

# Keys the job loop consumes itself; never passed to XGBoost.
_JOB_KEYS = frozenset(
    {
        "num_round",
        "early_stopping_rounds",
        "csv_weights",
        "save_model_on_termination",
        "eval_metric",
        "_tuning_objective_metric",
        "use_dask_gpu_training",
        "_kfold",
        "_num_cv_round",
    }
)
# Accepted for compatibility but removed from XGBoost >= 2 (passing them only produces warnings).
_REMOVED_IN_XGBOOST_2 = frozenset(
    {
        "predictor",
        "dsplit",
        "sketch_eps",
        "lambda_bias",
        "single_precision_histogram",
        "deterministic_histogram",
        "prob_buffer_row",
    }
)


@dataclass(frozen=True)
class TrainingSettings:
    num_round: int
    params: dict[str, Any]
    native_metrics: list[str] = field(default_factory=list)
    custom_metrics: list[str] = field(default_factory=list)
    early_stopping_rounds: int | None = None
    early_stopping_metric: str | None = None
    maximize: bool | None = None
    csv_weights: bool = False
    save_model_on_termination: bool = False

    @property
    def objective(self) -> str:
        return str(self.params.get("objective", DEFAULT_OBJECTIVE))


def _metrics(values: dict[str, Any]) -> tuple[list[str], str | None]:
    """The eval_metric list plus the tuning objective's metric (added, and used for early stopping)."""
    metrics = list(values.get("eval_metric") or [])
    tuning = values.get("_tuning_objective_metric")
    if tuning is None:
        return metrics, metrics[-1] if metrics else None
    name = tuning.partition(":")[2]
    if name not in metrics:
        metrics.append(name)
    return metrics, name


def _booster_params(values: dict[str, Any], num_cpus: int) -> dict[str, Any]:
    params = {k: v for k, v in values.items() if k not in _JOB_KEYS and k not in _REMOVED_IN_XGBOOST_2}
    if params.get("objective") == "reg:linear":
        params["objective"] = "reg:squarederror"  # removed alias in XGBoost >= 2
    if params.get("tree_method") == "gpu_hist":
        params["tree_method"] = "hist"  # CPU-only build: same algorithm on the CPU
    if "monotone_constraints" in params:
        params["monotone_constraints"] = "(" + ",".join(map(str, params["monotone_constraints"])) + ")"
    if "interaction_constraints" in params:
        params["interaction_constraints"] = str(params["interaction_constraints"]).replace(" ", "")
    if "updater" in params:
        params["updater"] = ",".join(params["updater"])
    params.setdefault("nthread", max(1, num_cpus))
    params.setdefault("seed", 0)
    return params


# XGBoost 1.7's auto tree method: exact greedy on one machine, approx for distributed training and for
# data of 4M rows or more (XGBoost >= 2 made hist the default).
_EXACT_ROWS_BELOW = 4 << 20


def apply_xgboost_1_defaults(params: dict[str, Any], rows: int, distributed: bool) -> None:
    """What a 1.x image (1.7-1) trains with where the job leaves a parameter unset, and this library
    (XGBoost 3) has another default: base_score 0.5 (now estimated from the labels) and the tree method
    that ``auto`` chose (now hist). Reference §8.2."""
    params.setdefault("base_score", 0.5)
    if params.get("tree_method", "auto") == "auto" and "updater" not in params:
        if params.get("device") == "cuda":  # a GPU host: gpu_hist, as SageMaker's GPU examples set
            params["tree_method"] = "hist"
            return
        lossguide = params.get("grow_policy") == "lossguide"  # exact grows depth-wise only
        large = distributed or rows >= _EXACT_ROWS_BELOW or lossguide
        params["tree_method"] = "approx" if large else "exact"


def build_settings(values: dict[str, Any], num_cpus: int) -> TrainingSettings:
    """Turn :func:`hyperparameters.validate` output into :class:`TrainingSettings`."""
    metrics, stopping_metric = _metrics(values)
    params = _booster_params(values, num_cpus)
    native = [m for m in metrics if m not in CUSTOM_METRICS]
    if native:
        params["eval_metric"] = native
    return TrainingSettings(
        num_round=values["num_round"],
        params=params,
        native_metrics=native,
        custom_metrics=[m for m in metrics if m in CUSTOM_METRICS],
        early_stopping_rounds=values.get("early_stopping_rounds"),
        early_stopping_metric=stopping_metric,
        maximize=is_maximized(stopping_metric) if stopping_metric else None,
        csv_weights=values.get("csv_weights", 0) == 1,
        save_model_on_termination=values.get("save_model_on_termination") == "true",
    )
