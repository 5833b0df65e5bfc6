"""Linear Learner pieces: loss gradients, threshold calibration, the model grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainplane.algorithms.linear_learner.hyperparameters import LOSSES, parse
from trainplane.algorithms.linear_learner.losses import make_loss
from trainplane.algorithms.linear_learner.model import model_grid
from trainplane.algorithms.linear_learner.selection import calibrate


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
