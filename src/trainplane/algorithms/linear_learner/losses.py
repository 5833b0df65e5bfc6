"""Losses with hand-written gradients, vectorised over models.

Every loss takes scores ``[batch, models, outputs]`` and labels ``[batch]`` and returns the per-example,
per-model loss ``[batch, models]`` and its gradient with respect to the scores. Writing the gradient out
by hand (instead of autograd) keeps one training step to a few fused tensor ops, which is what makes 32
models per pass cheap.

Regression trains on normalised labels; parameters with label units (huber_delta, loss_insensitivity) are
divided by the label scale so they keep their meaning in original units, and ``degree`` says how a loss
value scales back (loss_original = loss_trained * scale**degree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from trainplane.algorithms.linear_learner.hyperparameters import Hyperparameters

LossFn = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]

# name printed in `<name>_objective` metric lines (the observed log prints
# binary_classification_cross_entropy_objective for logistic loss)
OBJECTIVE_NAMES = {
    "logistic": "binary_classification_cross_entropy",
    "hinge_loss": "binary_classification_hinge_loss",
    "softmax_loss": "multiclass_cross_entropy",
    "squared_loss": "square_loss",
    "absolute_loss": "absolute_loss",
    "eps_insensitive_squared_loss": "eps_insensitive_squared_loss",
    "eps_insensitive_absolute_loss": "eps_insensitive_absolute_loss",
    "quantile_loss": "quantile_loss",
    "huber_loss": "huber_loss",
}
_DEGREE = {
    "squared_loss": 2,
    "eps_insensitive_squared_loss": 2,
    "huber_loss": 2,
    "absolute_loss": 1,
    "eps_insensitive_absolute_loss": 1,
    "quantile_loss": 1,
}


@dataclass(frozen=True)
class Loss:
    name: str
    fn: LossFn
    degree: int

    @property
    def objective_name(self) -> str:
        return OBJECTIVE_NAMES[self.name]

    def __call__(self, score: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.fn(score, y)


def _logistic(score: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    s = score[..., 0]
    t = y[:, None]
    loss = F.softplus(s) - t * s  # = cross entropy of sigmoid(s) against t, computed stably
    return loss, (torch.sigmoid(s) - t).unsqueeze(-1)


def _hinge(margin: float) -> LossFn:
    def fn(score: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sign = (2 * y - 1)[:, None]
        slack = margin - sign * score[..., 0]
        active = slack > 0
        return slack.clamp_min(0), torch.where(active, -sign, 0.0).unsqueeze(-1)

    return fn


def _softmax(score: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    log_p = torch.log_softmax(score, dim=-1)
    idx = y.long()[:, None, None].expand(-1, score.shape[1], 1)
    loss = -log_p.gather(-1, idx)[..., 0]
    grad = log_p.exp()
    grad.scatter_add_(-1, idx, torch.full_like(idx, -1, dtype=grad.dtype))
    return loss, grad


def _residual_loss(kind: str, hp: Hyperparameters, label_scale: float) -> LossFn:
    eps = hp.loss_insensitivity / label_scale
    delta = hp.huber_delta / label_scale
    q = hp.quantile

    def fn(score: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r = score[..., 0] - y[:, None]  # prediction minus label
        if kind == "squared_loss":
            loss, grad = r * r, 2 * r
        elif kind == "absolute_loss":
            loss, grad = r.abs(), torch.sign(r)
        elif kind == "eps_insensitive_squared_loss":
            excess = (r.abs() - eps).clamp_min(0)
            loss, grad = excess * excess, 2 * excess * torch.sign(r)
        elif kind == "eps_insensitive_absolute_loss":
            excess = r.abs() - eps
            loss, grad = excess.clamp_min(0), torch.where(excess > 0, torch.sign(r), 0.0)
        elif kind == "quantile_loss":
            # pinball loss on (label - prediction): under-prediction costs q, over-prediction 1 - q
            loss = torch.where(r < 0, -q * r, (1 - q) * r)
            grad = torch.where(r < 0, torch.full_like(r, -q), torch.full_like(r, 1 - q))
        else:  # huber_loss
            small = r.abs() <= delta
            loss = torch.where(small, 0.5 * r * r, delta * (r.abs() - 0.5 * delta))
            grad = torch.where(small, r, delta * torch.sign(r))
        return loss, grad.unsqueeze(-1)

    return fn


def make_loss(hp: Hyperparameters, label_scale: float = 1.0) -> Loss:
    """The configured loss, in the space the model trains in."""
    if hp.loss == "logistic":
        return Loss(hp.loss, _logistic, 0)
    if hp.loss == "hinge_loss":
        return Loss(hp.loss, _hinge(hp.margin), 0)
    if hp.loss == "softmax_loss":
        return Loss(hp.loss, _softmax, 0)
    return Loss(hp.loss, _residual_loss(hp.loss, hp, label_scale), _DEGREE[hp.loss])
