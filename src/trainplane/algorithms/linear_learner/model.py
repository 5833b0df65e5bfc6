"""``num_models`` linear models trained in one vectorised pass, with their optimizer.

All parameters live in one tensor ``P`` of shape ``[features + 1, models, outputs]``: rows ``:features``
are the weights (``weights`` gives the ``[models, features, outputs]`` view), the last row the biases.
One mini-batch step is then a single GEMM ``X @ W.view(features, models * outputs)`` forward, a single
GEMM ``X.T @ G`` backward, and one optimizer update over ``P`` where learning rate, weight decay and L1
are per-model tensors broadcast along the model axis. That is why 32 models cost little more than one.

The model grid (model 0 always uses the given settings exactly)::

    i < 32:   learning_rate * LR_MULTS[i % 8],
              wd from (wd, wd * 10 or 1e-4)[(i // 8) % 2],
              l1 from (l1, l1 * 10 or 1e-4)[(i // 16) % 2]
    i >= 32:  learning_rate * log-uniform(0.01, 30), wd and l1 drawn from the same pairs (seeded)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from trainplane.algorithms.formats import is_sparse
from trainplane.algorithms.linear_learner.hyperparameters import Hyperparameters

LR_MULTS = (1.0, 0.3, 3.0, 0.1, 10.0, 0.03, 30.0, 0.01)
_EPS = 1e-8


@dataclass(frozen=True)
class ModelSettings:
    learning_rate: list[float]
    wd: list[float]
    l1: list[float]

    def describe(self, i: int, hp: Hyperparameters) -> dict[str, Any]:
        return {
            "optimizer": hp.optimizer,
            "learning_rate": self.learning_rate[i],
            "wd": self.wd[i],
            "l1": self.l1[i],
            "lr_scheduler_step": hp.lr_scheduler_step,
            "lr_scheduler_factor": hp.lr_scheduler_factor,
            "use_bias": hp.use_bias,
        }


def model_grid(hp: Hyperparameters) -> ModelSettings:
    rng = np.random.default_rng(0)
    wd_pair = (hp.wd, hp.wd * 10 if hp.wd > 0 else 1e-4)
    l1_pair = (hp.l1, hp.l1 * 10 if hp.l1 > 0 else 1e-4)
    lrs, wds, l1s = [], [], []
    for i in range(hp.num_models):
        if i < 32:
            mult, wd, l1 = LR_MULTS[i % 8], wd_pair[(i // 8) % 2], l1_pair[(i // 16) % 2]
        else:
            mult = float(np.exp(rng.uniform(np.log(0.01), np.log(30))))
            wd, l1 = wd_pair[int(rng.integers(2))], l1_pair[int(rng.integers(2))]
        lrs.append(hp.learning_rate * mult)
        wds.append(wd)
        l1s.append(l1)
    return ModelSettings(lrs, wds, l1s)


def linear_scores(P: torch.Tensor, x: Any) -> torch.Tensor:
    """Scores ``[batch, models, outputs]`` of parameters ``P`` for a normalised batch (torch or scipy)."""
    rows, m, o = P.shape
    f = rows - 1
    w = P[:f].reshape(f, m * o)
    out = torch.from_numpy(np.asarray(x @ w.numpy(), dtype=np.float32)) if is_sparse(x) else x @ w
    out += P[f].reshape(1, m * o)
    return out.view(-1, m, o)


class MultiLinear:
    """Parameters, optimizer state and the update rule of all models."""

    def __init__(self, num_features: int, hp: Hyperparameters, settings: ModelSettings) -> None:
        self.hp, self.settings = hp, settings
        f, m, o = num_features, hp.num_models, hp.num_outputs
        self.num_features = f
        gen = torch.Generator().manual_seed(0)
        self.P = torch.empty(f + 1, m, o)
        if hp.init_method == "uniform":
            self.P[:f].uniform_(-hp.init_scale, hp.init_scale, generator=gen)
        else:
            self.P[:f].normal_(0.0, hp.init_sigma, generator=gen)
        self.P[f] = hp.init_bias if hp.use_bias else 0.0
        # Per-row, per-model multipliers: the bias row gets bias_lr_mult / bias_wd_mult and no L1.
        row_lr = torch.ones(f + 1, 1, 1)
        row_lr[f] = hp.bias_lr_mult if hp.use_bias else 0.0
        row_wd = torch.ones(f + 1, 1, 1)
        row_wd[f] = hp.bias_wd_mult
        self.base_lr = row_lr * torch.tensor(settings.learning_rate).view(1, m, 1)
        self.wd = row_wd * torch.tensor(settings.wd).view(1, m, 1)
        self.l1 = torch.tensor(settings.l1).view(1, m, 1).expand(f + 1, m, 1).clone()
        self.l1[f] = 0.0
        self.use_l1 = bool((self.l1 > 0).any())
        self.use_wd = bool((self.wd > 0).any())
        # The gradient (sums over a batch) and, in the last slot, the batch's row count: one flat buffer,
        # so that distributed training all-reduces both with a single collective per step.
        self.grad_buffer = torch.zeros(self.P.numel() + 1)
        self.grad = self.grad_buffer[:-1].view_as(self.P)
        self.m1 = torch.zeros_like(self.P)
        self.m2 = torch.zeros_like(self.P)  # second moment (adam, rmsprop); tiny, so always kept
        self.t = 0
        self.steps_per_epoch = 1
        self.correction: torch.Tensor | None = None  # added to every gradient (local SGD's drift)
        self._lr_key = -1
        self._lr = self.base_lr

    @property
    def weights(self) -> torch.Tensor:
        return self.P[: self.num_features].permute(1, 0, 2)  # [models, features, outputs]

    def scores(self, x: Any) -> torch.Tensor:
        return linear_scores(self.P, x)

    def learning_rates(self) -> torch.Tensor:
        hp = self.hp
        if not hp.use_lr_scheduler:
            return self.base_lr
        step = hp.lr_scheduler_step or self.steps_per_epoch
        key = self.t // step
        if key != self._lr_key:  # MXNet FactorScheduler: lr * factor^(updates // step), floored
            floor = torch.minimum(self.base_lr, torch.tensor(hp.lr_scheduler_minimum_lr))
            self._lr = torch.maximum(self.base_lr * hp.lr_scheduler_factor**key, floor)
            self._lr_key = key
        return self._lr

    def step(self, x: Any, grad_scores: torch.Tensor, batch_size: int) -> None:
        """One optimizer update from d(mean loss)/d(scores) of a batch."""
        self.accumulate(x, grad_scores)
        self.apply(batch_size)

    def accumulate(self, x: Any, grad_scores: torch.Tensor) -> None:
        """``grad`` := the gradient of the batch's summed loss (``apply`` divides by the row count)."""
        _, m, o = self.P.shape
        g2 = grad_scores.reshape(-1, m * o)
        gw = self.grad[: self.num_features].view(self.num_features, m * o)
        if is_sparse(x):
            gw.copy_(torch.from_numpy(np.asarray(x.T @ g2.numpy(), dtype=np.float32)))
        else:
            torch.mm(x.T, g2, out=gw)
        self.grad[self.num_features] = g2.sum(0).view(m, o)

    def skip(self) -> None:
        """A scheduled step this host has no batch for: no update, but the step count (bias correction,
        learning-rate schedule) advances as on the hosts that did step, so all stay in agreement."""
        self.t += 1

    def apply(self, batch_size: float) -> None:
        """The update from ``grad`` (a gradient sum over ``batch_size`` rows): weight decay, lr, L1."""
        if self.correction is None:
            self.grad.div_(batch_size)
        else:  # several hosts (see ``averaging``): grad / batch_size + correction, in one pass
            torch.add(self.correction, self.grad, alpha=1.0 / batch_size, out=self.grad)
        if self.use_wd:
            self.grad.addcmul_(self.wd, self.P)
        self.t += 1
        lr = self.learning_rates()
        self._update(lr)
        if self.use_l1:  # proximal step: soft-threshold by lr * l1 (keeps exact zeros, unlike a subgradient)
            threshold = lr * self.l1
            self.P.copy_(torch.sign(self.P) * (self.P.abs() - threshold).clamp_min_(0))

    def _update(self, lr: torch.Tensor) -> None:
        hp, g = self.hp, self.grad
        if hp.optimizer == "adam":
            self.m1.mul_(hp.beta_1).add_(g, alpha=1 - hp.beta_1)
            self.m2.mul_(hp.beta_2).addcmul_(g, g, value=1 - hp.beta_2)
            c1, c2 = 1 - hp.beta_1**self.t, 1 - hp.beta_2**self.t
            denom = (self.m2 / c2).sqrt_().add_(_EPS)
            self.P.addcdiv_(self.m1 * (lr / c1), denom, value=-1.0)
        elif hp.optimizer == "rmsprop":
            rho = hp.beta_2 if hp.beta_2 != 0.999 else 0.9  # beta_2 doubles as RMSProp's decay rate
            self.m2.mul_(rho).addcmul_(g, g, value=1 - rho)
            self.P.addcdiv_(g * lr, self.m2.sqrt().add_(_EPS), value=-1.0)
        else:  # sgd with (heavy-ball) momentum
            self.m1.mul_(hp.momentum).add_(g)
            self.P.addcmul_(self.m1, lr, value=-1.0)

    def state_dict(self) -> dict[str, Any]:
        return {"P": self.P, "m1": self.m1, "m2": self.m2, "t": self.t}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.P.copy_(state["P"])
        self.m1.copy_(state["m1"])
        self.m2.copy_(state["m2"])
        self.t = int(state["t"])
        self._lr_key = -1
