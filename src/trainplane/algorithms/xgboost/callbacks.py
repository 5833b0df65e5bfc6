"""Training callbacks: SageMaker-format metric lines, and a graceful stop on SIGTERM."""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import TextIO

import xgboost as xgb


def format_metric_line(epoch: int, evals_log: dict) -> str:
    """``[<epoch>]\\t<data>-<metric>:<value>...``, the line XGBoost's EvaluationMonitor writes."""
    parts = [f"[{epoch}]"]
    for data, metrics in evals_log.items():
        for metric, history in metrics.items():
            parts.append(f"{data}-{metric}:{float(history[-1]):.5f}")
    return "\t".join(parts)


class MetricPrinter(xgb.callback.TrainingCallback):
    """Print one flushed metric line per round to stdout, where the platform's regexes look."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.starting_round = 0

    def before_training(self, model: xgb.Booster) -> xgb.Booster:
        # xgboost.train numbers epochs from 0 even when continuing a model; print absolute rounds
        # so a resumed job's metric series continues where the checkpoint left off.
        self.starting_round = model.num_boosted_rounds()
        return model

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict) -> bool:
        if evals_log:
            line = format_metric_line(self.starting_round + epoch, evals_log)
            print(line, file=self.stream or sys.stdout, flush=True)
        return False


class StopOnSigterm(xgb.callback.TrainingCallback):
    """With ``save_model_on_termination``: a SIGTERM ends training after the current round, so the
    job loop can still save the model within the platform's grace period."""

    def __init__(self) -> None:
        super().__init__()
        self.requested = False
        self._previous: object = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        print(
            "SIGTERM received: stopping after this round and saving the model.", file=sys.stderr, flush=True
        )
        self.requested = True

    def before_training(self, model: xgb.Booster) -> xgb.Booster:
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        return model

    def after_training(self, model: xgb.Booster) -> xgb.Booster:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)  # type: ignore[arg-type]
        return model

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict) -> bool:
        return self.requested
