"""Pure checks for ``TuningJobCompletionCriteria`` (§7.6).

Results are taken in the order they finished: by ``Trial.finished_at`` when every result has one,
otherwise in history order. Only trials with an objective (completed, or stopped with a last value)
count; failed trials neither improve nor fail to improve the best.

* ``TargetObjectiveMetricValue``: any result at or beyond the target (``<=`` when minimising).
* ``BestObjectiveNotImproving``: ``jobs_not_improving`` counts the consecutive latest results that did
  not beat the best before them by at least 1 % of its magnitude (any strict gain counts when the best
  is exactly 0). A result that beats the best by less than 1 % becomes the new reference but still
  counts as not improving, so a creeping sequence of tiny gains completes the job.
* ``ConvergenceDetected`` (SageMaker's heuristic is unpublished; this one is ours): with at least
  ``min_results`` results, the job has converged when both

  1. *stagnation*: the last ``window = max(10, n // 4)`` results improved the best by less than
     ``0.1 %`` of the observed objective spread (max - min over all results); and
  2. *concentration*: the interquartile range of those last ``window`` values is under a quarter of the
     interquartile range of all results, i.e. the search keeps landing in one basin.

  The second condition keeps undirected search (Random, and early Bayesian) from "converging" just
  because it stopped getting lucky: its recent values are spread like all the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from trainplane.tuning.strategies.base import History

IMPROVEMENT_FRACTION = 0.01
MIN_NOT_IMPROVING = 3


class CompletionReason(StrEnum):
    TARGET_REACHED = "TargetObjectiveMetricValue"
    NOT_IMPROVING = "BestObjectiveNotImproving"
    CONVERGED = "ConvergenceDetected"


@dataclass(frozen=True)
class CompletionCriteria:
    target_objective_value: float | None = None
    max_jobs_not_improving: int | None = None
    complete_on_convergence: bool = False

    @classmethod
    def from_api(cls, doc: Mapping[str, Any] | None) -> CompletionCriteria:
        """From a ``TuningJobCompletionCriteria`` document (validated by the service)."""
        doc = doc or {}
        target = doc.get("TargetObjectiveMetricValue")
        not_improving = (doc.get("BestObjectiveNotImproving") or {}).get(
            "MaxNumberOfTrainingJobsNotImproving"
        )
        convergence = (doc.get("ConvergenceDetected") or {}).get("CompleteOnConvergence") == "Enabled"
        return cls(
            float(target) if target is not None else None,
            int(not_improving) if not_improving is not None else None,
            convergence,
        )


@dataclass(frozen=True)
class CompletionStatus:
    """What to report (``TuningJobCompletionDetails``) and whether to stop launching."""

    reason: CompletionReason | None
    jobs_not_improving: int
    converged: bool

    @property
    def complete(self) -> bool:
        return self.reason is not None


def ordered_results(history: History) -> list[float]:
    results = list(history.with_results())
    if results and all(t.finished_at is not None for t in results):
        results.sort(key=lambda t: t.finished_at or 0.0)  # stable: ties keep history order
    return [history.loss(float(t.objective)) for t in results if t.objective is not None]


def target_reached(history: History, target: float) -> bool:
    return any(loss <= history.loss(target) for loss in ordered_results(history))


def jobs_not_improving(history: History) -> int:
    losses = ordered_results(history)
    if not losses:
        return 0
    best, count = losses[0], 0
    for loss in losses[1:]:
        if loss <= best - IMPROVEMENT_FRACTION * abs(best) and loss < best:
            count = 0
        else:
            count += 1
        best = min(best, loss)
    return count


def convergence_detected(history: History, min_results: int = 20) -> bool:
    losses = np.array(ordered_results(history), dtype=float)
    losses = losses[np.isfinite(losses)]
    n = len(losses)
    if n < min_results:
        return False
    window = max(10, n // 4)
    spread = losses.max() - losses.min()
    if spread == 0:
        return True  # every result identical: nothing left to find
    gain = losses[:-window].min() - losses[-window:].min()
    if gain >= 1e-3 * spread:
        return False
    iqr_all = np.subtract(*np.percentile(losses, [75, 25]))
    iqr_recent = np.subtract(*np.percentile(losses[-window:], [75, 25]))
    return bool(iqr_recent < 0.25 * iqr_all)


def check_completion(criteria: CompletionCriteria, history: History) -> CompletionStatus:
    """Evaluate every configured criterion; the first that fires (in declaration order) is the reason."""
    count = jobs_not_improving(history)
    converged = criteria.complete_on_convergence and convergence_detected(history)
    reason: CompletionReason | None = None
    if criteria.target_objective_value is not None and target_reached(
        history, criteria.target_objective_value
    ):
        reason = CompletionReason.TARGET_REACHED
    elif criteria.max_jobs_not_improving is not None and count >= criteria.max_jobs_not_improving:
        reason = CompletionReason.NOT_IMPROVING
    elif converged:
        reason = CompletionReason.CONVERGED
    return CompletionStatus(reason, count, converged)
