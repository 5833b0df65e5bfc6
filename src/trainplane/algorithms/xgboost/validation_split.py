"""Distributed evaluation: each host evaluates 1/N of a replicated validation channel.

With several hosts every round's metrics are all-reduced: for the metrics below XGBoost sums each
host's (loss, weight) pair and divides once, so the value over the union of the hosts' rows is the
value over all rows, whichever host holds which row. A FullyReplicated validation channel gives every
host every row; evaluating all of them on every host is work that does not shrink with more hosts
(1M train rows on one core: 100k validation rows add 2-3 ms to a ~59 ms round, half of them 1 ms,
``benchmarks/xgboost_evaluation.py``). So each host keeps a contiguous 1/N of those rows for
evaluation, and the metric lines stay those of one host on the whole channel, up to float summation
order (``tests/scaling/test_xgboost_distributed.py`` checks logloss, error, rmse and mae over 20 and
980 of 1000 rows against one process on all of them; auc differs, hence not split).

Not split: a ShardedByS3Key validation channel (already one share per host), ranking and survival
objectives (groups and orderings span rows), metrics that are not such a ratio (auc, aucpr, ndcg,
map, pre, cox-nloglik: XGBoost averages per-host values, exact only when every host sees the same
rows), and custom metrics (computed by scikit-learn on the host's own predictions).
"""

from __future__ import annotations

import sys
from typing import Any

from trainplane.algorithms.formats import Dataset, row_share

# Metrics XGBoost all-reduces as a global sum of losses over a global sum of weights.
RATIO_METRICS = frozenset(
    {
        "rmse",
        "rmsle",
        "mae",
        "mape",
        "mphe",
        "logloss",
        "error",
        "merror",
        "mlogloss",
        "poisson-nloglik",
        "gamma-nloglik",
        "gamma-deviance",
        "tweedie-nloglik",
    }
)

# What XGBoost evaluates when eval_metric is not given, by objective.
DEFAULT_METRICS = {
    "reg:squarederror": "rmse",
    "reg:logistic": "rmse",
    "reg:squaredlogerror": "rmsle",
    "reg:pseudohubererror": "mphe",
    "reg:absoluteerror": "mae",
    "binary:logistic": "logloss",
    "binary:logitraw": "logloss",
    "binary:hinge": "error",
    "multi:softmax": "merror",
    "multi:softprob": "merror",
    "count:poisson": "poisson-nloglik",
    "reg:gamma": "gamma-nloglik",
    "reg:tweedie": "tweedie-nloglik",
}


def _base(metric: str) -> str:
    """``error@0.7`` -> ``error``; ``tweedie-nloglik@1.5`` -> ``tweedie-nloglik``."""
    return metric.split("@", 1)[0]


def splittable(objective: str, native_metrics: list[str], custom_metrics: list[str]) -> bool:
    """Whether every metric of the job is a global ratio, so that evaluating 1/N per host is exact."""
    if custom_metrics or objective.startswith(("rank:", "survival:")):
        return False
    metrics = native_metrics or [DEFAULT_METRICS.get(objective, "")]
    return all(_base(metric) in RATIO_METRICS for metric in metrics)


def evaluation_share(
    validation: Dataset, config: dict[str, Any], hosts: list[str], current_host: str
) -> Dataset:
    """This host's share of a FullyReplicated validation channel; all of it on a single host, for a
    ShardedByS3Key channel (``config`` is the channel's inputdataconfig entry), or with fewer rows
    than hosts."""
    hosts = sorted(hosts)
    if config.get("S3DistributionType", "FullyReplicated") != "FullyReplicated":
        return validation
    if len(hosts) < 2 or validation.num_rows < len(hosts):
        return validation
    share = validation.rows(*row_share(validation.num_rows, hosts.index(current_host), len(hosts)))
    print(
        f"Evaluating {share.num_rows} of the {validation.num_rows} validation rows on this host; the "
        f"validation metrics are all-reduced over the {len(hosts)} hosts' shares.",
        file=sys.stderr,
        flush=True,
    )
    return share
