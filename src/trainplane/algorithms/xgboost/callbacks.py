"""Training callbacks: SageMaker-format metric lines, and a graceful stop on SIGTERM."""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import TextIO

import numpy as np
import xgboost as xgb
from xgboost import collective


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
    """With ``save_model_on_termination``: a SIGTERM (a stop or spot interruption notice) ends training
    after the round in progress, so that round is checkpointed (the checkpoint callback runs before this
    one) and the job loop can save the model within the platform's grace period: no trained round is
    lost at a notice. With several hosts the hosts agree (an all-reduce of the flag each round) on the
    round to stop after, so none waits in a collective for a peer that already stopped."""

    def __init__(self) -> None:
        super().__init__()
        self.requested = False
        self.stopped_after: int | None = None  # the last round trained, once stopped by SIGTERM
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
        stop = self.requested
        if collective.is_distributed():
            stop = bool(collective.allreduce(np.array([float(stop)]), collective.Op.MAX)[0])
        if stop:
            self.requested = True
            self.stopped_after = model.num_boosted_rounds() - 1
        return stop
