"""Linear Learner pieces: loss gradients, threshold calibration, the model grid."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from trainplane.algorithms.formats import Dataset
from trainplane.algorithms.linear_learner import trainer as trainer_module
from trainplane.algorithms.linear_learner.data import Scaler
from trainplane.algorithms.linear_learner.distributed import Collective
from trainplane.algorithms.linear_learner.hyperparameters import LOSSES, parse
from trainplane.algorithms.linear_learner.losses import make_loss
from trainplane.algorithms.linear_learner.model import MultiLinear, model_grid
from trainplane.algorithms.linear_learner.selection import calibrate
from trainplane.algorithms.linear_learner.trainer import Trainer, sync_every


@pytest.mark.parametrize(("ptype", "loss"), [(p, loss) for p, group in LOSSES.items() for loss in group])
def test_hand_written_gradients_match_autograd(ptype: str, loss: str) -> None:
    extra = {"num_classes": "3"} if ptype == "multiclass_classifier" else {}
    hp = parse({"predictor_type": ptype, "loss": loss, **extra})
    fn = make_loss(hp, label_scale=2.0)
    gen = torch.Generator().manual_seed(0)
    outputs = hp.num_outputs
    score = torch.randn(16, 3, outputs, generator=gen, dtype=torch.float64).requires_grad_()
    y = torch.randint(0, 3 if outputs > 1 else 2, (16,), generator=gen).to(torch.float64)
    if ptype == "regressor":
        y = torch.randn(16, generator=gen, dtype=torch.float64)
    value, grad = fn(score, y)
    value.sum().backward()
    assert value.shape == (16, 3)
    torch.testing.assert_close(grad, score.grad)


def test_calibration_finds_the_accuracy_threshold() -> None:
    hp = parse({"predictor_type": "binary_classifier"})
    score = np.array([0.1, 0.2, 0.3, 0.35, 0.6, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    threshold, value = calibrate(score, y, hp)
    assert 0.3 < threshold < 0.35 and value == 1.0


def test_calibration_for_target_recall() -> None:
    hp = parse(
        {
            "predictor_type": "binary_classifier",
            "binary_classifier_model_selection_criteria": "precision_at_target_recall",
            "target_recall": "0.99",
        }
    )
    score = np.array([0.1, 0.2, 0.3, 0.4, 0.9])
    y = np.array([1, 0, 0, 1, 1])
    threshold, value = calibrate(score, y, hp)
    assert threshold < 0.1 and value == pytest.approx(0.6)  # all positive: recall 1, precision 3/5


def test_model_grid_keeps_model_zero_exact() -> None:
    hp = parse({"predictor_type": "regressor", "learning_rate": "0.05", "wd": "0.01", "num_models": "40"})
    grid = model_grid(hp)
    assert (grid.learning_rate[0], grid.wd[0], grid.l1[0]) == (0.05, 0.01, 0.0)
    assert len(set(grid.learning_rate)) > 8 and set(grid.wd) == {0.01, 0.1} and set(grid.l1) == {0.0, 1e-4}


class PairedCollective(Collective):
    """Stands in for a 2-host group: the other host holds ``other`` (a function of this host's
    tensor) at every collective; counts the all-reduces."""

    def __init__(self, other: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__(rank=0, world_size=2)
        self.other, self.sums = other, 0

    def all_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        self.sums += 1
        tensor += self.other(tensor.clone())
        return tensor

    def all_max(self, value: int) -> int:
        return value


def regression_trainer(group: Collective, **hyperparameters: str) -> Trainer:
    hp = parse({"predictor_type": "regressor", "num_models": "2", "mini_batch_size": "10", **hyperparameters})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype(np.float32)
    train = Dataset(x, (x @ np.array([1.0, -2.0, 0.5])).astype(np.float32))
    scaler = Scaler(np.zeros(3, dtype=np.float32), np.ones(3, dtype=np.float32))
    model = MultiLinear(3, hp, model_grid(hp))
    return Trainer(hp, train, None, scaler, make_loss(hp, 1.0), None, model, group)


def test_hyperparameter_kvstore_defaults_to_auto_and_accepts_dist_sync() -> None:
    assert parse({"predictor_type": "regressor"}).kvstore == "auto"
    assert parse({"predictor_type": "regressor", "_kvstore": "dist_sync"}).kvstore == "dist_sync"
    assert sync_every(1000) == 262 and sync_every(10) == 26214 and sync_every(10**6) == 1


def test_local_steps_average_the_hosts_models_once_per_sync_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trainer_module, "SYNC_ROWS", 50)  # every 5 steps of 10 rows
    group = PairedCollective(lambda t: t)  # the other host is identical: averaging changes nothing
    alone = regression_trainer(Collective())
    paired = regression_trainer(group)
    alone.train_epoch(0)
    paired.train_epoch(0)
    assert torch.allclose(paired.model.P, alone.model.P)
    assert group.sums == 20 // 5  # 20 steps: 4 averages, the last one with the epoch's loss totals


def test_averaging_weights_each_host_by_the_rows_it_stepped_on() -> None:
    def other(buffer: torch.Tensor) -> torch.Tensor:
        # The other host stepped on 3x the rows and holds parameters of 5 everywhere.
        rows = float(buffer[-1])
        result = torch.full_like(buffer, 5.0 * 3 * rows)
        result[-1] = 3 * rows
        return result

    trainer = regression_trainer(PairedCollective(other))
    trainer.model.P.fill_(1.0)
    trainer._average_models(10)
    assert torch.allclose(trainer.model.P, torch.full_like(trainer.model.P, (1.0 * 1 + 5.0 * 3) / 4))


def test_dist_sync_all_reduces_the_gradient_at_every_step() -> None:
    group = PairedCollective(lambda t: t)
    regression_trainer(group, _kvstore="dist_sync").train_epoch(0)
    assert group.sums == 20 + 1
