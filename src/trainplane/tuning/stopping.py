"""The median stopping rule behind ``TrainingJobEarlyStoppingType=Auto`` (§7.4).

After a running trial's ``e``-th objective report: for every *other* trial that has reached epoch ``e``
(whatever its status, i.e. it got there before now), take the running average of its first ``e``
values; if the current trial's value at epoch ``e`` is worse than the median of those averages, stop it.

The rule abstains (never stops) until ``min_trials`` other trials have reached the same epoch, default 3:
with one or two, the "median" is a single lucky or unlucky run, and stopping on it would throw away
good configurations early in the tuning job. It also never stops before ``min_epochs`` reports.
Non-finite reports (a diverged run) count as worst possible.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from trainplane.tuning.strategies.base import History, Trial

DEFAULT_MIN_TRIALS = 3


@dataclass(frozen=True)
class MedianStoppingRule:
    min_trials: int = DEFAULT_MIN_TRIALS
    min_epochs: int = 1

    def __post_init__(self) -> None:
        if self.min_trials < 1 or self.min_epochs < 1:
            raise ValueError("min_trials and min_epochs must be at least 1")

    def should_stop(self, trial: Trial, history: History) -> bool:
        epoch = len(trial.intermediate)
        if epoch < self.min_epochs:
            return False
        averages = [
            _finite_loss(history, sum(other.intermediate[:epoch]) / epoch)
            for other in history.trials
            if other.id != trial.id and len(other.intermediate) >= epoch
        ]
        if len(averages) < self.min_trials:
            return False
        return _finite_loss(history, trial.intermediate[epoch - 1]) > statistics.median(averages)


def _finite_loss(history: History, value: float) -> float:
    loss = history.loss(value)
    return loss if math.isfinite(loss) else math.inf
