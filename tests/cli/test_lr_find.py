"""``trainplane lr-find``: the range test's rule, the memory bound, the PNG and the command end to end."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from trainplane.algorithms.formats import Dataset
from trainplane.algorithms.linear_learner.hyperparameters import parse
from trainplane.algorithms.linear_learner.lr_find import batch_bound, range_test, recommend, smooth
from trainplane.cli.lr_find import write_png
from trainplane.cli.main import main

IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def test_recommendation_is_a_tenth_of_the_rate_at_the_minimum() -> None:
    rates = np.logspace(-5, 1, 61)
    x = np.log10(rates)
    curve = 1.0 / (1.0 + np.exp(3 * (x + 2))) + np.where(x > -0.5, (x + 0.5) ** 2, 0.0)  # drop, floor, rise
    at_min, steepest, recommended = recommend(rates, curve)
    assert at_min == pytest.approx(10**-0.5, rel=0.2)
    assert recommended == pytest.approx(at_min / 10)
    assert steepest == pytest.approx(1e-2, rel=0.3)


def test_smoothing_is_bias_corrected() -> None:
    np.testing.assert_allclose(smooth(np.full(5, 2.0)), 2.0)


def test_batch_bound_follows_the_documented_memory_model() -> None:
    hp = parse({"predictor_type": "binary_classifier", "num_models": "32"})
    bound = batch_bound(hp, rows=10_000_000, features=100, memory_gib=16.0)
    assert bound.data_bytes == 10_000_000 * 100 * 4
    assert bound.per_row_bytes == 4 * 100 + 12 * 32
    budget = 0.9 * 16 * 2**30 - 600 * 2**20 - bound.data_bytes
    assert 0 < bound.max_mini_batch_size == int(budget // (bound.per_row_bytes * 4)) < 10_000_000
    assert batch_bound(hp, rows=10**9, features=100, memory_gib=16.0).max_mini_batch_size == 0
    assert batch_bound(hp, rows=500, features=10, memory_gib=16.0).max_mini_batch_size == 500


def test_range_test_finds_a_usable_rate_on_real_data() -> None:
    x, y = load_breast_cancer(return_X_y=True)
    dataset = Dataset(x.astype(np.float32), y.astype(np.float32))
    hps = {"predictor_type": "binary_classifier", "mini_batch_size": "50", "optimizer": "sgd"}
    result = range_test(hps, dataset, steps=200, min_lr=1e-5, max_lr=100.0)
    assert result.smoothed.min() < 0.3 < result.smoothed[0]  # the loss falls from ~log(2)
    assert 1e-4 < result.recommended_lr < 10


def test_png_writer_writes_a_valid_rgb_png(tmp_path: Path) -> None:
    image = np.zeros((3, 4, 3), np.uint8)
    image[1, 2] = (255, 0, 0)
    write_png(tmp_path / "a.png", image)
    data = (tmp_path / "a.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour) == (4, 3, 8, 2)
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    rows = np.frombuffer(zlib.decompress(data[idat + 4 : idat + 4 + length]), np.uint8).reshape(3, 13)
    assert (rows[:, 0] == 0).all() and tuple(rows[1, 1 + 2 * 3 : 1 + 3 * 3]) == (255, 0, 0)


def _spec(tmp_path: Path, image: str = IMAGE) -> Path:
    x, y = load_breast_cancer(return_X_y=True)
    (tmp_path / "train").mkdir()
    np.savetxt(tmp_path / "train" / "data.csv", np.column_stack([y, x]), delimiter=",", fmt="%.8g")
    spec = {
        "TrainingJobName": "ll",
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": {"predictor_type": "binary_classifier", "mini_batch_size": "50"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"file://{tmp_path}/train/"}
                },
            }
        ],
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def test_command_prints_the_table_and_writes_the_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "out" / "lr.png"
    argv = ["--home", str(tmp_path / "home"), "lr-find", str(_spec(tmp_path)), "--steps", "120"]
    assert main([*argv, "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "recommended learning_rate" in out
    assert "largest mini_batch_size for ml.m5.large (8 GiB)" in out and "569 (= all records)" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_rejects_a_spec_for_another_algorithm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, image="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")
    assert main(["--home", str(tmp_path / "home"), "lr-find", str(spec)]) == 1
    assert "lr-find needs a linear-learner TrainingImage" in capsys.readouterr().err
