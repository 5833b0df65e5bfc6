"""Metric names, their directions, and the regexes the service registers for built-in XGBoost jobs.

Most metrics XGBoost computes natively; those in :data:`CUSTOM_METRICS` the container computes itself
(see :mod:`.custom_metrics`).
"""

from __future__ import annotations

MAXIMIZE = (
    "accuracy",
    "auc",
    "aucpr",
    "balanced_accuracy",
    "f1",
    "f1_binary",
    "f1_macro",
    "map",
    "ndcg",
    "precision",
    "r2",
    "recall",
    "precision_macro",
    "precision_micro",
    "recall_macro",
    "recall_micro",
)
MINIMIZE = (
    "aft-nloglik",
    "cox-nloglik",
    "error",
    "gamma-deviance",
    "gamma-nloglik",
    "interval-regression-accuracy",
    "logloss",
    "mae",
    "mape",
    "merror",
    "mlogloss",
    "mphe",
    "mse",
    "poisson-nloglik",
    "rmse",
    "rmsle",
    "tweedie-nloglik",
)
METRIC_NAMES = MAXIMIZE + MINIMIZE
SPLITS = ("train", "validation")
_VALUE = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def metric_definitions() -> list[dict[str, str]]:
    """The MetricDefinitions the service fills in for a built-in XGBoost job.

    Tabs in the log reach the regexes as ``#011`` (the platform escapes control characters first).
    """
    return [
        {"Name": f"{split}:{name}", "Regex": f".*\\[[0-9]+\\].*#011{split}-{name}:{_VALUE}.*"}
        for split in SPLITS
        for name in METRIC_NAMES
    ]


def metric_direction(name: str) -> str:
    """``Maximize`` or ``Minimize`` for a metric, with or without its ``<split>:`` prefix or ``@t``."""
    base = name.split(":", 1)[-1].split("@", 1)[0]
    if base in MAXIMIZE:
        return "Maximize"
    if base in MINIMIZE:
        return "Minimize"
    raise ValueError(f"Unknown XGBoost metric: {name}")


def is_maximized(name: str) -> bool:
    return metric_direction(name) == "Maximize"


CUSTOM_METRICS = frozenset(
    {
        "accuracy",
        "balanced_accuracy",
        "f1",
        "f1_binary",
        "f1_macro",
        "precision",
        "precision_macro",
        "precision_micro",
        "recall",
        "recall_macro",
        "recall_micro",
        "mse",
        "r2",
    }
)
