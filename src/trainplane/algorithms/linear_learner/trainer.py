"""The epoch loop: vectorised mini-batch passes, per-model best snapshots, early stopping, checkpoints.

Each model keeps the parameters of its best epoch (by validation loss, else training loss); early stopping
watches the best loss over all models (or, for a binary job that names its selection criterion and has
validation data, the best model's criterion on a validation sample) and stops after
``early_stopping_patience`` epochs whose relative improvement is below ``early_stopping_tolerance``.
A checkpoint after every epoch holds everything needed to continue at the next epoch with the same
optimizer state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainplane.algorithms.formats import Dataset, is_sparse
from trainplane.algorithms.linear_learner import checkpoint, metrics
from trainplane.algorithms.linear_learner.averaging import ModelAverager
from trainplane.algorithms.linear_learner.data import Scaler, example_weights
from trainplane.algorithms.linear_learner.distributed import Collective
from trainplane.algorithms.linear_learner.hyperparameters import Hyperparameters
from trainplane.algorithms.linear_learner.losses import Loss
from trainplane.algorithms.linear_learner.model import MultiLinear, linear_scores

EVAL_BATCH = 8192
SYNCHRONOUS_KVSTORES = ("dist_sync", "dist_device_sync")
SYNC_ROWS = 262_144  # rows each host steps on between two model averages (local SGD)


def sync_every(mini_batch_size: int) -> int:
    """Local steps between model averages: about ``SYNC_ROWS`` rows, at least one step."""
    return max(1, round(SYNC_ROWS / mini_batch_size))


class Batcher:
    """Normalised row slices of one dataset, without ever materialising the normalised whole."""

    def __init__(self, data: Dataset, scaler: Scaler) -> None:
        self.sparse = is_sparse(data.features)
        self.x: Any = (
            data.features.tocsr()
            if self.sparse
            else torch.from_numpy(np.ascontiguousarray(data.features, dtype=np.float32))
        )
        self.shift = torch.from_numpy(scaler.shift)
        self.inv = torch.from_numpy((1.0 / scaler.scale).astype(np.float32))
        self.inv_np = self.inv.numpy()
        self.identity = not (scaler.shift.any() or (scaler.scale != 1).any())
        self.has_shift = bool(scaler.shift.any())

    def __call__(self, lo: int, hi: int) -> Any:
        if not self.sparse:
            xb = self.x[lo:hi]
            return xb if self.identity else (xb - self.shift).mul_(self.inv)
        xb = self.x[lo:hi]
        if self.has_shift:  # unbias_data=true on sparse data: this batch becomes dense
            return (torch.from_numpy(xb.toarray()) - self.shift).mul_(self.inv)
        xb = xb.copy()
        xb.data *= self.inv_np[xb.indices]
        return xb


def labels_for_training(y: np.ndarray, scaler: Scaler) -> torch.Tensor:
    return torch.from_numpy(
        ((y.astype(np.float64) - scaler.label_shift) / scaler.label_scale).astype(np.float32)
    )


@dataclass
class FitState:
    best_P: torch.Tensor  # each model's parameters from its best epoch, [features + 1, models, outputs]
    best_model_loss: torch.Tensor  # [models], the loss that made them best
    epoch: int = -1  # last completed epoch
    best_loss: float = float("inf")  # early-stopping reference (best over models)
    bad_epochs: int = 0

    @classmethod
    def start(cls, model: MultiLinear) -> FitState:
        return cls(model.P.clone(), torch.full((model.P.shape[1],), float("inf"), dtype=torch.float64))

    @classmethod
    def from_checkpoint(cls, saved: dict[str, Any]) -> FitState:
        return cls(
            saved["best_P"],
            saved["best_model_loss"],
            int(saved["epoch"]),
            float(saved["best_loss"]),
            int(saved["bad_epochs"]),
        )


class Trainer:
    def __init__(
        self,
        hp: Hyperparameters,
        train: Dataset,
        validation: Dataset | None,
        scaler: Scaler,
        loss: Loss,
        weights: np.ndarray | None,
        model: MultiLinear,
        collective: Collective | None = None,
    ) -> None:
        self.hp, self.scaler, self.loss, self.model = hp, scaler, loss, model
        self.collective = collective or Collective()  # several hosts: see ``distributed``
        self.validation = validation
        self.loss_unit = scaler.label_scale**loss.degree  # training-space loss -> original units
        # Pipe mode: each epoch after the first trained one reads fresh data from this source.
        self.epoch_source: Callable[[], Dataset] | None = None
        # A binary job that names its selection criterion stops on it (higher is better) instead of the
        # validation loss: the criterion of the best model, given all models' parameters (see ``fit``).
        self.stopping_criterion: Callable[[torch.Tensor], float] | None = None
        self.averager = ModelAverager(model, self.collective)
        self.use_train(train, weights)

    def use_train(self, train: Dataset, weights: np.ndarray | None) -> None:
        """Train on ``train`` from now on (the same dataset every epoch, unless a Pipe brings another)."""
        self.train_batches = Batcher(train, self.scaler)
        self.y = labels_for_training(train.labels, self.scaler)  # type: ignore[arg-type]
        self.w = None if weights is None else torch.from_numpy(weights)
        self.n = train.num_rows
        self.local_steps = -(-self.n // self.hp.mini_batch_size)
        # Every host walks the schedule of the host with the most batches (one collective per dataset).
        self.model.steps_per_epoch = self.collective.all_max(self.local_steps)

    def train_epoch(self, epoch: int) -> tuple[np.ndarray, float]:
        """One pass over the training data; per-model mean loss (original units) and records/second.

        With several hosts every host walks the same schedule of steps (as many as the host with the
        most batches; a host out of batches skips its turn) and the hosts end the epoch with identical
        parameters. ``_kvstore=dist_sync`` sums the hosts' gradients at every step, so a step costs an
        all-reduce, whose latency (gloo over loopback here: 0.4-1.8 ms, whatever the size) is far above
        a linear model's step (~0.1 ms for 1000 x 16 x 32). By default the hosts instead take
        ``sync_every`` local steps per round and then average their models, corrected for shards
        that differ (``averaging``): local SGD, with ~1/``sync_every`` of the collectives.
        """
        hp, model, group = self.hp, self.model, self.collective
        start = time.perf_counter()
        total = torch.zeros(hp.num_models + 1, dtype=torch.float64)  # summed losses, then the row count
        local_steps = self.local_steps
        order = np.random.default_rng(epoch).permutation(model.steps_per_epoch)  # same order after resume
        synchronous = group.world_size > 1 and hp.kvstore in SYNCHRONOUS_KVSTORES
        averaging = group.world_size > 1 and not synchronous
        every = sync_every(hp.mini_batch_size)
        total[-1] = self.n
        for i, b in enumerate(order.tolist()):
            lo, hi = b * hp.mini_batch_size, min((b + 1) * hp.mini_batch_size, self.n)
            if b < local_steps:
                xb = self.train_batches(lo, hi)
                loss, grad = self.loss(model.scores(xb), self.y[lo:hi])
                if self.w is not None:
                    wb = self.w[lo:hi]
                    loss = loss * wb[:, None]
                    grad = grad * wb[:, None, None]
                total[:-1] += loss.sum(0)
                model.accumulate(xb, grad)
                if synchronous:
                    model.grad_buffer[-1] = hi - lo
                else:
                    if averaging:
                        self.averager.stepped(model.grad, hi - lo)
                    model.apply(hi - lo)
            elif synchronous:
                model.grad_buffer.zero_()
            else:
                model.skip()
            if synchronous:
                group.all_sum(model.grad_buffer)
                model.apply(float(model.grad_buffer[-1]))
            elif averaging and i + 1 < len(order) and (i + 1) % every == 0:
                self.averager.average()
        if averaging:  # the epoch's last average also sums the loss totals: one collective for both
            self.averager.average(total)
        else:
            group.all_sum(total)
        elapsed = time.perf_counter() - start
        rows = float(total[-1])
        return (total[:-1] / rows).numpy() * self.loss_unit, rows / max(elapsed, 1e-9)

    def dataset_loss(self, P: torch.Tensor, data: Dataset, limit: int | None = None) -> np.ndarray:
        """Unweighted mean loss of every model on (the first ``limit`` rows of) a dataset."""
        n = min(data.num_rows, limit or data.num_rows)
        return (self._loss_sum(P, data, 0, n) / n).numpy() * self.loss_unit

    def replicated_loss(self, P: torch.Tensor, data: Dataset) -> np.ndarray:
        """``dataset_loss`` of a dataset every host holds whole: each host sums its share, all-reduced."""
        lo, hi = self.collective.shard(data.num_rows)
        total = self.collective.all_sum(self._loss_sum(P, data, lo, hi))
        return (total / data.num_rows).numpy() * self.loss_unit

    def _loss_sum(self, P: torch.Tensor, data: Dataset, start: int, stop: int) -> torch.Tensor:
        batches = Batcher(data, self.scaler)
        y = labels_for_training(data.labels, self.scaler)  # type: ignore[arg-type]
        total = torch.zeros(P.shape[1], dtype=torch.float64)
        with torch.no_grad():
            for lo in range(start, stop, EVAL_BATCH):
                hi = min(lo + EVAL_BATCH, stop)
                loss, _ = self.loss(linear_scores(P, batches(lo, hi)), y[lo:hi])
                total += loss.sum(0)
        return total

    def fit(
        self, state: FitState, log: Callable[[str], None], host: str, checkpoint_dir: Path | None
    ) -> FitState:
        hp, model = self.hp, self.model
        first = state.epoch + 1
        final_log = log
        for epoch in range(first, hp.epochs):
            if epoch > first and self.epoch_source is not None:
                fresh = self.epoch_source()
                self.use_train(fresh, example_weights(fresh, hp))
            # An epoch's lines are printed only after its checkpoint is written: a spot notice sent on
            # seeing "epoch=N" then always finds checkpoint N, so a restart re-does no finished epoch.
            pending: list[str] = []
            log = pending.append
            started = time.time()
            train_loss, throughput = self.train_epoch(epoch)
            log(metrics.epoch_line(host, epoch, "train", self.loss.objective_name, _best(train_loss)))
            watched, split = train_loss, "train"
            if self.validation is not None:
                watched, split = self.replicated_loss(model.P, self.validation), "validation"
                log(metrics.epoch_line(host, epoch, "validation", self.loss.objective_name, _best(watched)))
            self._log_models(
                log, host, epoch, train_loss, watched if split == "validation" else None, started
            )
            self._keep_best(state, torch.from_numpy(np.nan_to_num(watched, nan=np.inf)))
            criteria, value = f"{split}_{self.loss.objective_name}_objective", _best(watched)
            by_criterion = split == "validation" and self.stopping_criterion is not None
            if by_criterion:
                criteria = f"sampled_{hp.early_stopping_criterion}"
                leaders = self.stopping_criterion(model.P) if self.collective.is_leader else None  # type: ignore[misc]
                value = float(self.collective.broadcast(leaders))  # every host stops at the same epoch
            log(metrics.early_stopping_line(host, epoch, criteria, value))
            current = -value if by_criterion else value  # a criterion (higher is better) is watched negated
            reference = state.best_loss
            improved = current < reference and (
                reference == float("inf")
                or (reference - current) > hp.early_stopping_tolerance * abs(reference)
            )
            if improved:
                log(f"Epoch {epoch}: Loss improved. Updating best model")
                state.best_loss, state.bad_epochs = current, 0
            else:
                state.bad_epochs += 1
                log(f"Epoch {epoch}: Loss has not improved for {state.bad_epochs} epochs.")
            state.epoch = epoch
            log(metrics.throughput_line(host, throughput))
            log(metrics.progress_line(host, round(100.0 * (epoch + 1) / hp.epochs, 2)))
            if checkpoint_dir is not None and self.collective.is_leader:
                checkpoint.save(checkpoint_dir, host, epoch, self.state_dict(state))
            for line in pending:
                final_log(line)
            if state.bad_epochs >= hp.early_stopping_patience:
                final_log(f"Early stopping criteria met after epoch {epoch}.")
                break
        return state

    def _log_models(
        self,
        log: Callable[[str], None],
        host: str,
        epoch: int,
        train: np.ndarray,
        validation: np.ndarray | None,
        started: float,
    ) -> None:
        """A ``#metrics`` line per model with its epoch losses."""
        name, ended = f"{self.loss.objective_name}_objective", time.time()
        for i in range(len(train)):
            values = {f"train_{name}": float(train[i])}
            if validation is not None:
                values[f"validation_{name}"] = float(validation[i])
            log(metrics.model_metrics_line(host, epoch, i, values, started, ended))

    def _keep_best(self, state: FitState, losses: torch.Tensor) -> None:
        better = losses < state.best_model_loss
        state.best_model_loss = torch.where(better, losses, state.best_model_loss)
        state.best_P[:, better] = self.model.P[:, better]

    def state_dict(self, state: FitState) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "epoch": state.epoch,
            "best_loss": state.best_loss,
            "bad_epochs": state.bad_epochs,
            "best_P": state.best_P,
            "best_model_loss": state.best_model_loss,
            "scaler": {
                "shift": torch.from_numpy(self.scaler.shift),
                "scale": torch.from_numpy(self.scaler.scale),
                "label": torch.tensor(
                    [self.scaler.label_shift, self.scaler.label_scale], dtype=torch.float64
                ),
            },
        }


def _best(losses: np.ndarray) -> float:
    finite = losses[np.isfinite(losses)]
    return float(finite.min()) if len(finite) else float("nan")
