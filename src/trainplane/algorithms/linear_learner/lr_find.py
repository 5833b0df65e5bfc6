"""Learning-rate range test and a mini-batch size bound for a Linear Learner job.

**Range test** (Smith 2015, "Cyclical Learning Rates"; popularised by fast.ai): one model (the job's
optimizer, loss, regularisation and normalisation) trains for ``steps`` mini-batches while the learning
rate grows exponentially from ``min_lr`` to ``max_lr``; each batch's loss is recorded *before* its update
and smoothed with a bias-corrected exponential moving average (``beta`` = 0.9). The test stops early once
the smoothed loss exceeds 4x its minimum (divergence).

**Recommendation rule**: ``learning_rate = lr_at_min / 10``, where ``lr_at_min`` is the rate at the
smoothed loss's minimum: the minimum is where the rate starts to be too large, and a factor of ten below
it is still on the steep, stable part of the curve. The rate of steepest descent (most negative slope
of the smoothed loss against log10(lr)) is reported beside it for comparison.

**Mini-batch memory model**: training keeps the whole channel resident (``rows x features x 4`` bytes,
float32) plus the process's fixed cost (interpreter, numpy, torch: ``BASE_BYTES``). One step with batch
``b`` allocates, per row, the normalised feature copy (``4 * features``) and for each of ``num_models x
outputs`` scores: the score, its gradient and the loss (``3 * 4`` bytes); ``SAFETY`` = 4 covers
allocator slack and temporaries. The largest ``b`` with ``BASE + data + b * per_row * SAFETY <= 0.9 x
instance memory`` (capped at the channel's row count) is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from trainplane.algorithms.formats import Dataset
from trainplane.algorithms.linear_learner import data
from trainplane.algorithms.linear_learner.hyperparameters import Hyperparameters, parse
from trainplane.algorithms.linear_learner.losses import make_loss
from trainplane.algorithms.linear_learner.model import MultiLinear, model_grid
from trainplane.algorithms.linear_learner.trainer import Batcher, labels_for_training

BASE_BYTES = 600 * 2**20
SAFETY = 4.0
MEMORY_FRACTION = 0.9
DIVERGENCE = 4.0
_BETA = 0.9


@dataclass(frozen=True)
class RangeTest:
    learning_rates: np.ndarray  # the rate of each step
    losses: np.ndarray  # raw mini-batch loss before each step's update
    smoothed: np.ndarray  # bias-corrected EMA of ``losses``
    lr_at_min: float
    steepest_lr: float
    recommended_lr: float
    diverged: bool


@dataclass(frozen=True)
class BatchBound:
    instance_memory_gib: float
    data_bytes: int
    per_row_bytes: int
    max_mini_batch_size: int  # 0 when the data alone does not fit


def smooth(losses: np.ndarray, beta: float = _BETA) -> np.ndarray:
    """Bias-corrected exponential moving average."""
    out, average = np.empty(len(losses)), 0.0
    for i, value in enumerate(losses):
        average = beta * average + (1 - beta) * float(value)
        out[i] = average / (1 - beta ** (i + 1))
    return out


def recommend(learning_rates: np.ndarray, smoothed: np.ndarray) -> tuple[float, float, float]:
    """(lr at the smoothed minimum, steepest-descent lr, recommended lr = lr_at_min / 10)."""
    finite = np.isfinite(smoothed)
    if not finite.any():
        raise ValueError("every loss of the range test was NaN or infinite")
    lr, loss = learning_rates[finite], smoothed[finite]
    best = int(np.argmin(loss))
    slope = np.gradient(loss, np.log10(lr)) if len(loss) > 1 else np.zeros(1)
    steepest = float(lr[int(np.argmin(slope[: best + 1]))])
    return float(lr[best]), steepest, float(lr[best]) / 10.0


def range_test(
    raw_hyperparameters: dict[str, str],
    dataset: Dataset,
    *,
    steps: int = 300,
    min_lr: float = 1e-6,
    max_lr: float = 10.0,
    seed: int = 0,
) -> RangeTest:
    """Run the learning-rate range test on ``dataset`` (labelled, checked by the caller)."""
    if steps < 2 or not 0 < min_lr < max_lr:
        raise ValueError("need steps >= 2 and 0 < min_lr < max_lr")
    hp = parse({**raw_hyperparameters, "num_models": "1", "use_lr_scheduler": "false"})
    scaler = data.fit_scaler(dataset, hp)
    model = MultiLinear(dataset.num_features, hp, model_grid(hp))
    unit_lr = model.base_lr / hp.learning_rate  # keeps the bias row's bias_lr_mult
    loss_fn = make_loss(hp, scaler.label_scale)
    batches, y = Batcher(dataset, scaler), labels_for_training(np.asarray(dataset.labels), scaler)
    rates = min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))
    rng, n, b = np.random.default_rng(seed), dataset.num_rows, min(hp.mini_batch_size, dataset.num_rows)
    losses: list[float] = []
    order = rng.permutation(max(1, n // b))
    average, lowest = 0.0, math.inf
    with torch.no_grad():
        for step, lr in enumerate(rates):
            lo = int(order[step % len(order)]) * b
            xb = batches(lo, lo + b)
            loss, grad = loss_fn(model.scores(xb), y[lo : lo + b])
            losses.append(float(loss.mean()) * scaler.label_scale**loss_fn.degree)
            model.base_lr = unit_lr * float(lr)
            model.step(xb, grad, xb.shape[0])
            average = _BETA * average + (1 - _BETA) * losses[-1]
            current = average / (1 - _BETA ** (step + 1))
            lowest = min(lowest, current)
            if not math.isfinite(current) or current > DIVERGENCE * lowest:
                break
    raw = np.asarray(losses)
    smoothed = smooth(raw)
    at_min, steepest, recommended = recommend(rates[: len(raw)], smoothed)
    diverged = len(raw) < steps
    return RangeTest(rates[: len(raw)], raw, smoothed, at_min, steepest, recommended, diverged)


def batch_bound(hp: Hyperparameters, rows: int, features: int, memory_gib: float) -> BatchBound:
    """The largest mini_batch_size that fits ``memory_gib`` under the model in the module docstring."""
    data_bytes = rows * features * 4
    per_row = 4 * features + 3 * 4 * hp.num_models * hp.num_outputs
    budget = MEMORY_FRACTION * memory_gib * 2**30 - BASE_BYTES - data_bytes
    fits = max(0, int(budget // (per_row * SAFETY)))
    return BatchBound(memory_gib, data_bytes, per_row, min(fits, rows))
