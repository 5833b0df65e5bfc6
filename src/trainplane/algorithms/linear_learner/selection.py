"""Decision-threshold calibration and the choice of the final model among ``num_models`` (§9.3 step 4).

A binary model's threshold is chosen on the calibration sample (validation, else a training sample) to
maximise ``binary_classifier_model_selection_criteria``; the model with the best calibrated value wins.
Multiclass and regression models are chosen by their loss on that sample.
"""

from __future__ import annotations

import numpy as np

from trainplane.algorithms.linear_learner.hyperparameters import Hyperparameters


def default_threshold(loss: str) -> float:
    return 0.5 if loss == "logistic" else 0.0  # probability vs. hinge margin


def calibrate(score: np.ndarray, y: np.ndarray, hp: Hyperparameters) -> tuple[float, float]:
    """(threshold, criterion value; higher is better) for one model; predicts 1 iff score > threshold.

    Cut k predicts the top k scores as positive; only cuts between distinct scores are realisable. The
    arrays are built one at a time and in place: on a 1M-row sample this keeps the temporaries near
    40 MiB, which matters for the job's peak memory.
    """
    if not np.all(np.isfinite(score)):
        return default_threshold(hp.loss), -np.inf
    order = np.argsort(-score, kind="stable")
    s, positive = score[order], (y[order] == 1)
    del order
    n, n_pos = len(s), float(positive.sum())
    tp = np.zeros(n + 1)
    np.cumsum(positive, out=tp[1:])
    del positive
    value = _criterion(tp, n, n_pos, hp)
    value[1:n][s[:-1] == s[1:]] = -np.inf
    best = int(np.argmax(value))
    if best == 0:
        threshold = float(s[0]) if n else default_threshold(hp.loss)
    elif best == n:
        threshold = float(s[-1]) - max(1e-6, abs(float(s[-1])) * 1e-6)
    else:
        threshold = float((s[best - 1] + s[best]) / 2)
    return threshold, float(value[best])


def _criterion(tp: np.ndarray, n: int, n_pos: float, hp: Hyperparameters) -> np.ndarray:
    """The selection criterion at every cut k = 0..n, given the true positives ``tp`` of each cut."""
    criterion = hp.binary_classifier_model_selection_criteria
    k = np.arange(n + 1, dtype=np.float64)
    if criterion == "accuracy":  # (tp + tn) / n with tn = (n - n_pos) - (k - tp)
        value = tp * 2.0
        value -= k
        value += n - n_pos
        value /= n
        return value
    precision = np.divide(tp, k, out=np.ones(n + 1), where=k > 0)
    del k
    recall = tp / n_pos if n_pos else np.ones(n + 1)
    if criterion == "f_beta":
        b2 = hp.f_beta**2
        denom = b2 * precision + recall
        top = precision * recall
        top *= 1 + b2
        return np.divide(top, denom, out=np.zeros(n + 1), where=denom > 0)
    if criterion == "precision_at_target_recall":
        return np.where(recall >= hp.target_recall, precision, recall - 1.0)
    # recall_at_target_precision; cuts that miss the target rank below any that reach it
    return np.where(precision >= hp.target_precision, recall, precision - 1.0)


def choose(values: np.ndarray) -> int:
    """Index of the best model (NaN counts as worst)."""
    return int(np.argmax(np.nan_to_num(values, nan=-np.inf)))
