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


def other_host(P: float, rows: int, gradient: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """The other host of a pair: its parameters and moments all ``P``, stepped on ``rows`` rows whose
    gradients summed to ``gradient`` everywhere (the averager's buffer layout)."""

    def buffer(mine: torch.Tensor) -> torch.Tensor:
        size = (len(mine) - 1) // 4  # P, m1, m2, the row count, the gradient sum
        result = torch.full_like(mine, P * rows)
        result[3 * size] = rows
        result[3 * size + 1 :] = gradient
        return result

    return buffer


def test_averaging_weights_each_host_by_the_rows_it_stepped_on() -> None:
    trainer = regression_trainer(PairedCollective(other_host(P=5.0, rows=30, gradient=0.0)))
    trainer.model.P.fill_(1.0)
    trainer.averager.stepped(torch.zeros_like(trainer.model.P), 10)
    trainer.averager.average()
    assert torch.allclose(trainer.model.P, torch.full_like(trainer.model.P, (1.0 * 10 + 5.0 * 30) / 40))


def test_each_host_corrects_its_gradients_by_the_hosts_mean_gradient_minus_its_own() -> None:
    # This host's gradients summed to 2 per row over 10 rows, the other's to 6 per row over 30 rows:
    # the mean over the hosts is (20 + 180) / 40 = 5 per row, so this host adds 5 - 2 = 3 from now on.
    trainer = regression_trainer(PairedCollective(other_host(P=0.0, rows=30, gradient=180.0)))
    model = trainer.model
    trainer.averager.stepped(torch.full_like(model.P, 20.0), 10)
    trainer.averager.average()
    assert model.correction is not None
    assert torch.allclose(model.correction, torch.full_like(model.P, 3.0))
    assert not trainer.averager.gradient.any() and trainer.averager.rows == 0  # a new round begins
    model.grad.fill_(4.0 * 10)  # a batch of 10 rows with a gradient of 4 per row
    before = model.P.clone()
    model.apply(10)
    assert torch.allclose(model.grad, torch.full_like(model.P, 4.0 + 3.0))  # what the update used
    assert not torch.equal(model.P, before)


def test_a_single_host_never_corrects_its_gradients() -> None:
    trainer = regression_trainer(Collective())
    trainer.train_epoch(0)
    assert trainer.model.correction is None


def test_dist_sync_all_reduces_the_gradient_at_every_step() -> None:
    group = PairedCollective(lambda t: t)
    regression_trainer(group, _kvstore="dist_sync").train_epoch(0)
    assert group.sums == 20 + 1
