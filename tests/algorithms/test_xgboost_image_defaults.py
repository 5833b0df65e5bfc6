"""The image tag is the XGBoost version: a 1.x image (1.7-1) trains with XGBoost 1.7's defaults where
the job leaves base_score and tree_method unset; a 3.x image keeps this library's own."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn.datasets import load_breast_cancer

from jobs_helpers import channel, xgboost_job
from trainplane import TrainPlane
from trainplane.algorithms.registry import TRAINING_IMAGE_VARIABLE
from trainplane.algorithms.xgboost import checkpointing, main
from trainplane.algorithms.xgboost.contract import image_major_version
from trainplane.algorithms.xgboost.settings import apply_xgboost_1_defaults
from trainplane.runtime.paths import MLPaths

X, Y = load_breast_cancer(return_X_y=True)
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost"
CSV = {"ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}


@pytest.mark.parametrize(
    ("image", "major"),
    [
        (f"{IMAGE}:1.7-1", 1),
        (f"{IMAGE}:3.0-5", 3),
        (f"{IMAGE}:0.90-2", 0),
        (IMAGE, 1),
        (f"{IMAGE}:latest", 1),
    ],
)
def test_the_major_version_comes_from_the_tag_and_defaults_to_the_documented_one(
    image: str, major: int
) -> None:
    assert image_major_version(image) == major


def test_unset_parameters_get_xgboost_1_7_defaults_and_set_ones_are_kept() -> None:
    small: dict[str, object] = {}
    apply_xgboost_1_defaults(small, rows=1000, distributed=False)
    assert small == {"base_score": 0.5, "tree_method": "exact"}
    for rows, distributed, extra in [
        (4 << 20, False, {}),
        (10, True, {}),
        (10, False, {"grow_policy": "lossguide"}),
    ]:
        params: dict[str, object] = dict(extra)
        apply_xgboost_1_defaults(params, rows=rows, distributed=distributed)
        assert params["tree_method"] == "approx", (rows, distributed, extra)
    given: dict[str, object] = {"base_score": 0.2, "tree_method": "hist"}
    apply_xgboost_1_defaults(given, rows=10, distributed=False)
    assert given == {"base_score": 0.2, "tree_method": "hist"}
    on_gpu: dict[str, object] = {"device": "cuda"}
    apply_xgboost_1_defaults(on_gpu, rows=10, distributed=False)
    assert on_gpu["tree_method"] == "hist"


def _train(root: Path, image: str) -> xgb.Booster:
    paths = MLPaths(root).create()
    paths.channel("train").mkdir(parents=True)
    np.savetxt(paths.channel("train") / "train.csv", np.column_stack([Y, X]), delimiter=",", fmt="%.6g")
    paths.inputdataconfig_file.write_text(json.dumps({"train": CSV}))
    hyperparameters = {"num_round": "4", "objective": "binary:logistic", "max_depth": "3"}
    paths.hyperparameters_file.write_text(json.dumps(hyperparameters))
    environ = dict(os.environ, TRAINPLANE_ML_ROOT=str(root), SM_NUM_CPUS="1", SM_HOSTS='["algo-1"]')
    environ[TRAINING_IMAGE_VARIABLE] = image
    assert main(environ) == 0, paths.failure_file.read_text() if paths.failure_file.exists() else ""
    return checkpointing.load_booster(paths.model / "xgboost-model")


def _base_score(booster: xgb.Booster) -> float:
    return float(
        json.loads(booster.save_config())["learner"]["learner_model_param"]["base_score"].strip("[]")
    )


def _native(data: xgb.DMatrix, **params: object) -> np.ndarray:
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3, "seed": 0, "nthread": 1, **params}, data, 4
    )
    return booster.predict(data)


def test_a_1_7_image_trains_as_xgboost_1_7_would_and_a_3_0_image_as_xgboost_3(tmp_path: Path) -> None:
    data = xgb.DMatrix(X.astype(np.float32), label=Y)
    legacy = _train(tmp_path / "legacy", f"{IMAGE}:1.7-1")
    current = _train(tmp_path / "current", f"{IMAGE}:3.0-5")
    assert _base_score(legacy) == 0.5
    np.testing.assert_allclose(
        legacy.predict(data), _native(data, base_score=0.5, tree_method="exact"), rtol=1e-6
    )
    np.testing.assert_allclose(current.predict(data), _native(data), rtol=1e-6)
    assert not np.allclose(legacy.predict(data), current.predict(data))


@pytest.mark.slow
def test_the_platform_tells_the_builtin_its_image_tag(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    np.savetxt(tmp_path / "train" / "train.csv", np.column_stack([Y, X]), delimiter=",", fmt="%.6g")
    hyperparameters = {"num_round": "2", "objective": "binary:logistic"}
    scores = {}
    with TrainPlane(home=tmp_path / "home") as tp:
        for tag in ("1.7-1", "3.0-5"):
            name = f"xgb-{tag.replace('.', '-')}"
            request = xgboost_job(
                name,
                f"file://{tmp_path}/out",
                [channel("train", f"file://{tmp_path}/train/")],
                hyperparameters,
            )
            request["AlgorithmSpecification"]["TrainingImage"] = f"{IMAGE}:{tag}"
            tp.create_training_job(**request)
            assert tp.wait_for_training_job(name, timeout=120)["TrainingJobStatus"] == "Completed"
            with tarfile.open(tmp_path / "out" / name / "output" / "model.tar.gz") as archive:
                archive.extract("xgboost-model", tmp_path / name)
            scores[tag] = _base_score(checkpointing.load_booster(tmp_path / name / "xgboost-model"))
    assert scores["1.7-1"] == 0.5
    assert scores["3.0-5"] == pytest.approx(Y.mean(), rel=1e-4)  # XGBoost 3 estimates it from the labels
