"""Local SGD across hosts (InstanceCount > 1, the default kvstore): drift-corrected model averages.

Each host steps on its own shard and, every round of ``SYNC_ROWS`` rows, the hosts average their models
(parameters and optimizer moments, weighted by the rows each host stepped on in the round) in one
all-reduce, so a round costs one collective instead of one per step.

ShardedByS3Key shards are not identically distributed when objects follow a date, a region or a
label. A host's local steps then pull towards its own shard's optimum, and plain averaging every 256k
rows lost 2-4 % of the validation loss against one host on label-sorted shards (benchmarks/RESULTS.md).
So each host adds ``mean gradient of all hosts - its own mean gradient`` over the last round to every
local gradient (SCAFFOLD's control variates), which cancels that pull; the gradient sums travel in the
same collective as the models. On identically distributed shards the correction is close to zero.

The correction is per-host state that checkpoints do not hold: a resumed job's first round runs
uncorrected, as the job's first round does.
"""

from __future__ import annotations

import torch

from trainplane.algorithms.linear_learner.distributed import Collective
from trainplane.algorithms.linear_learner.model import MultiLinear

DRIFT_CORRECTION = True  # benchmarks/linear_learner_shards.py measures it off, against one host


class ModelAverager:
    def __init__(self, model: MultiLinear, collective: Collective) -> None:
        self.model, self.collective = model, collective
        # Summed since the last average; float32 like the gradients (one cheap add per step).
        self.gradient = torch.zeros_like(model.P)
        self.rows = 0

    @property
    def _state(self) -> tuple[torch.Tensor, ...]:
        return self.model.P, self.model.m1, self.model.m2

    def stepped(self, gradient_sum: torch.Tensor, rows: int) -> None:
        """A local step on ``rows`` rows whose summed (uncorrected) gradient was ``gradient_sum``."""
        self.gradient += gradient_sum
        self.rows += rows

    def average(self, summed: torch.Tensor | None = None) -> None:
        """End a round: every host's model := the row-weighted mean of the hosts' models, its gradient
        correction is renewed, and ``summed`` (float64) := its sum over the hosts; one collective."""
        sizes = [t.numel() for t in self._state]
        weighted = [t.reshape(-1).to(torch.float64) * self.rows for t in self._state]
        extra = [] if summed is None else [summed]
        gradient = self.gradient.reshape(-1).to(torch.float64)
        buffer = torch.cat([*weighted, torch.tensor([float(self.rows)]), gradient, *extra])
        self.collective.all_sum(buffer)
        if summed is not None:
            summed.copy_(buffer[-summed.numel() :])
        weight, offset = float(buffer[sum(sizes)]), 0
        if weight > 0:  # else nobody stepped: the models are still identical
            for tensor in self._state:
                tensor.copy_(buffer[offset : offset + tensor.numel()].view_as(tensor) / weight)
                offset += tensor.numel()
            if self.rows > 0 and DRIFT_CORRECTION:
                everyone = buffer[offset + 1 : offset + 1 + self.model.P.numel()].view_as(self.model.P)
                mine = self.gradient.to(torch.float64) / self.rows
                self.model.correction = (everyone / weight - mine).to(torch.float32)
        self.gradient.zero_()
        self.rows = 0
