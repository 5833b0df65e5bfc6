"""Evaluation metrics and the exact log-line formats the service's regexes expect (reference §9.4)."""

from __future__ import annotations

import json
import math

import numpy as np

from trainplane.algorithms.linear_learner.hyperparameters import BINARY, MULTICLASS, REGRESSOR

SPLITS = ("train", "validation", "test")
_MINIMIZE = {"objective_loss", "objective_loss:final", "mse", "rmse", "absolute_loss"}
_PER_TYPE = {
    BINARY: ("binary_classification_accuracy", "binary_f_beta", "precision", "recall", "roc_auc_score"),
    MULTICLASS: (
        "multiclass_accuracy",
        "multiclass_top_k_accuracy",
        "macro_precision",
        "macro_recall",
        "macro_f_beta",
        "dcg",
    ),
    REGRESSOR: ("mse", "rmse", "absolute_loss"),
}
_PATTERN = {  # metric name -> the text between "<split> " and "=(\S+)"
    "binary_f_beta": r"binary_f_\S+ <score>",
    "macro_f_beta": r"macro_f_\S+ <score>",
    "multiclass_top_k_accuracy": r"multiclass_top_k_accuracy_\S+ <score>",
    "mse": "mse <loss>",
    "rmse": "rmse <loss>",
    "absolute_loss": "absolute_loss <loss>",
}
Metric = tuple[str, str, float]  # (name as printed, "loss" | "score", value)


def epoch_line(host: str, epoch: int, split: str, objective: str, value: float) -> str:
    return f"#quality_metric: host={host}, epoch={epoch}, {split} {objective}_objective <loss>={value:.6g}"


def final_line(host: str, split: str, name: str, kind: str, value: float) -> str:
    return f"#quality_metric: host={host}, {split} {name} <{kind}>={value:.6g}"


def progress_line(host: str, percent: float) -> str:
    return f"#progress_metric: host={host}, completed {percent:g} % of epochs"


def throughput_line(host: str, records_per_second: float) -> str:
    return f"#throughput_metric: host={host}, train throughput={records_per_second:.6g} records/second"


def model_metrics_line(
    host: str, epoch: int, model: int, values: dict[str, float], start: float, end: float
) -> str:
    """One model's per-epoch losses as the container's ``#metrics`` JSON line (§9.3 step 2)."""
    body = {
        "StartTime": round(start, 3),
        "EndTime": round(end, 3),
        "Dimensions": {
            "Algorithm": "Linear Learner",
            "Host": host,
            "Operation": "training",
            "epoch": epoch,
            "model": model,
        },
        "Metrics": {
            name: {"sum": value, "count": 1, "min": value, "max": value} for name, value in values.items()
        },
    }
    return "#metrics " + json.dumps(body)


def early_stopping_line(host: str, epoch: int, criteria: str, value: float) -> str:
    return (
        f"#early_stopping_criteria_metric: host={host}, epoch={epoch}, criteria={criteria}, value={value:.6g}"
    )


def metric_definitions(predictor_type: str | None = None) -> list[dict[str, str]]:
    """MetricDefinitions the service fills in for Linear Learner jobs (all types when none is given)."""
    types = [predictor_type] if predictor_type else [BINARY, MULTICLASS, REGRESSOR]
    defs = []
    for split in SPLITS:
        if split != "test":
            defs.append(
                {
                    "Name": f"{split}:objective_loss",
                    "Regex": rf"#quality_metric: host=\S+, epoch=\S+, {split} \S+_objective <loss>=(\S+)",
                }
            )
        name = "test:objective_loss" if split == "test" else f"{split}:objective_loss:final"
        defs.append(
            {"Name": name, "Regex": rf"#quality_metric: host=\S+, {split} \S+_objective <loss>=(\S+)"}
        )
        for ptype in types:
            for metric in _PER_TYPE[ptype]:
                if metric == "rmse" and split != "validation":
                    continue  # documented for validation only
                text = _PATTERN.get(metric, f"{metric} <score>")
                defs.append(
                    {
                        "Name": f"{split}:{metric}",
                        "Regex": rf"#quality_metric: host=\S+, {split} {text}=(\S+)",
                    }
                )
    defs.append({"Name": "train:progress", "Regex": r"#progress_metric: host=\S+, completed (\S+) %"})
    defs.append(
        {
            "Name": "train:throughput",
            "Regex": r"#throughput_metric: host=\S+, train throughput=(\S+) records/second",
        }
    )
    return defs


def metric_direction(name: str) -> str:
    """``Minimize`` or ``Maximize`` for a metric name, with or without its ``<split>:`` prefix."""
    base = name.split(":", 1)[1] if name.split(":", 1)[0] in SPLITS else name
    return "Minimize" if base in _MINIMIZE else "Maximize"


def _f_beta(precision: float, recall: float, beta: float) -> float:
    b2 = beta * beta
    denom = b2 * precision + recall
    return (1 + b2) * precision * recall / denom if denom > 0 else 0.0


def binary_metrics(score: np.ndarray, y: np.ndarray, threshold: float, beta: float) -> list[Metric]:
    predicted = score > threshold
    positive = y == 1
    tp = float(np.sum(predicted & positive))
    precision = tp / max(float(predicted.sum()), 1.0)
    recall = tp / max(float(positive.sum()), 1.0)
    out = [
        ("binary_classification_accuracy", "score", float(np.mean(predicted == positive))),
        (f"binary_f_{beta:.3f}", "score", _f_beta(precision, recall, beta)),
        ("precision", "score", precision),
        ("recall", "score", recall),
    ]
    if 0 < positive.sum() < len(y):
        out.append(("roc_auc_score", "score", roc_auc(score, positive)))
    return out


def roc_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Mann-Whitney AUC with average ranks for ties (no scikit-learn import: it costs ~90 MiB RSS).

    Only the positives' rank sum is needed, so ranks are summed per tie group instead of being
    scattered back to every row (keeps the temporaries small on million-row channels)."""
    order = np.argsort(score, kind="stable")
    s = score[order]
    pos_sorted = positive[order]
    del order
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    del s
    ends = np.r_[starts[1:], len(positive)]
    average = (starts + ends + 1) / 2.0  # mean of the 1-based ranks in each tie group
    positives_per_group = np.add.reduceat(pos_sorted.astype(np.int64), starts)
    n_pos = float(positive.sum())
    n_neg = len(positive) - n_pos
    rank_sum = float(np.dot(average, positives_per_group))
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def multiclass_metrics(prob: np.ndarray, y: np.ndarray, top_k: int, beta: float) -> list[Metric]:
    labels = y.astype(np.int64)
    classes = prob.shape[1]
    predicted = prob.argmax(axis=1)
    # rank of the true class (0 = best); ties broken towards the true class
    rank = (prob > prob[np.arange(len(labels)), labels][:, None]).sum(axis=1)
    precisions, recalls, fs = [], [], []
    for c in range(classes):
        tp = float(np.sum((predicted == c) & (labels == c)))
        p = tp / max(float(np.sum(predicted == c)), 1.0)
        r = tp / max(float(np.sum(labels == c)), 1.0)
        precisions.append(p)
        recalls.append(r)
        fs.append(_f_beta(p, r, beta))
    return [
        ("multiclass_accuracy", "score", float(np.mean(predicted == labels))),
        (f"multiclass_top_k_accuracy_{top_k}", "score", float(np.mean(rank < top_k))),
        ("macro_precision", "score", float(np.mean(precisions))),
        ("macro_recall", "score", float(np.mean(recalls))),
        (f"macro_f_{beta:.3f}", "score", float(np.mean(fs))),
        ("dcg", "score", float(np.mean(1.0 / np.log2(rank + 2.0)))),
    ]


def regression_metrics(prediction: np.ndarray, y: np.ndarray) -> list[Metric]:
    err = prediction.astype(np.float64) - y
    mse = float(np.mean(err * err))
    return [
        ("mse", "loss", mse),
        ("rmse", "loss", math.sqrt(mse)),
        ("absolute_loss", "loss", float(np.mean(np.abs(err)))),
    ]
