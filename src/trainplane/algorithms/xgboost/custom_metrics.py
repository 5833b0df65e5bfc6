"""The metrics the SageMaker container computes itself (accuracy, f1, precision/recall variants, ...).

They go through XGBoost 3's ``custom_metric`` hook, which receives *transformed* predictions
(probabilities, or class ids for ``multi:softmax``), so the class decision depends on the objective.
Imported only when a job asks for one of them: scikit-learn takes a while to import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

Score = Callable[[np.ndarray, np.ndarray], float]

_CLASS_METRICS: dict[str, Score] = {
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "f1": lambda y, p: skm.f1_score(y, p, average="macro"),
    "f1_binary": lambda y, p: skm.f1_score(y, p, average="binary"),
    "f1_macro": lambda y, p: skm.f1_score(y, p, average="macro"),
    "precision": lambda y, p: skm.precision_score(y, p, zero_division=0),
    "precision_macro": lambda y, p: skm.precision_score(y, p, average="macro", zero_division=0),
    "precision_micro": lambda y, p: skm.precision_score(y, p, average="micro", zero_division=0),
    "recall": lambda y, p: skm.recall_score(y, p, zero_division=0),
    "recall_macro": lambda y, p: skm.recall_score(y, p, average="macro", zero_division=0),
    "recall_micro": lambda y, p: skm.recall_score(y, p, average="micro", zero_division=0),
}
_REGRESSION_METRICS: dict[str, Score] = {"mse": skm.mean_squared_error, "r2": skm.r2_score}


def _class_labels(predictions: np.ndarray, objective: str) -> np.ndarray:
    if predictions.ndim == 2:
        return np.argmax(predictions, axis=1)
    if objective == "multi:softmax":
        return predictions
    threshold = 0.0 if objective == "binary:logitraw" else 0.5
    return (predictions > threshold).astype(np.float32)


def custom_metric(
    names: Sequence[str], objective: str
) -> Callable[[np.ndarray, Any], list[tuple[str, float]]]:
    """An XGBoost ``custom_metric`` computing the container-defined metrics ``names`` in order."""

    def evaluate(predictions: np.ndarray, dmatrix: Any) -> list[tuple[str, float]]:
        labels = dmatrix.get_label()
        if predictions.size == 0:
            return [(name, 0.0) for name in names]
        classes = _class_labels(predictions, objective)  # cheap next to the metrics themselves
        return [
            (name, float(_CLASS_METRICS[name](labels, classes)))
            if name in _CLASS_METRICS
            else (name, float(_REGRESSION_METRICS[name](labels, predictions)))
            for name in names
        ]

    return evaluate
