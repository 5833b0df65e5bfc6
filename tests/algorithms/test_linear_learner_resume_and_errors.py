"""Linear Learner checkpoint/resume and the failures bad input produces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from trainplane.algorithms.formats.recordio_protobuf import write_recordio_protobuf
from trainplane.algorithms.linear_learner import checkpoint, load_model, main
from trainplane.runtime.paths import MLPaths


def make_root(
    root: Path, hps: dict[str, str], x: np.ndarray, y: np.ndarray | None, ckpt: bool = False
) -> MLPaths:
    paths = MLPaths(root).create()
    paths.hyperparameters_file.write_text(json.dumps(hps))
    paths.channel("train").mkdir(parents=True, exist_ok=True)
    write_recordio_protobuf(paths.channel("train") / "part-0.rec", x, y)
    paths.inputdataconfig_file.write_text(
        json.dumps({"train": {"ContentType": "application/x-recordio-protobuf"}})
    )
    if ckpt:
        paths.checkpointconfig_file.write_text(
            json.dumps({"LocalPath": "/opt/ml/checkpoints", "S3Uri": "s3://b/c"})
        )
    return paths


def run(paths: MLPaths) -> tuple[int, list[str]]:
    lines: list[str] = []
    return main({"TRAINPLANE_ML_ROOT": str(paths.root), "SM_NUM_CPUS": "1"}, log=lines.append), lines


def data(rows: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 4)).astype(np.float32)
    return x, (x[:, 0] - x[:, 1] > 0).astype(np.float32)


HPS = {
    "predictor_type": "binary_classifier",
    "mini_batch_size": "32",
    "num_models": "4",
    "early_stopping_patience": "100",
}


def test_resume_continues_at_the_next_epoch_with_the_same_state(tmp_path: Path) -> None:
    x, y = data()
    straight = make_root(tmp_path / "straight", {**HPS, "epochs": "4"}, x, y)
    assert run(straight)[0] == 0
    resumed = make_root(tmp_path / "resumed", {**HPS, "epochs": "2"}, x, y, ckpt=True)
    assert run(resumed)[0] == 0
    saved = sorted(p.name for p in resumed.checkpoints.iterdir())
    assert saved == ["linear-learner-algo-1-epoch-00000.pt", "linear-learner-algo-1-epoch-00001.pt"]
    resumed.hyperparameters_file.write_text(json.dumps({**HPS, "epochs": "4"}))
    code, lines = run(resumed)
    assert code == 0
    assert any("Resuming from the checkpoint of epoch 1" in line for line in lines)
    epochs = [
        line.split("epoch=")[1].split(",")[0]
        for line in lines
        if line.startswith("#quality_metric") and "epoch=" in line
    ]
    assert epochs == ["2", "3"]
    a = load_model(straight.model).predict(x)["score"]
    b = load_model(resumed.model).predict(x)["score"]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_checkpoints_are_atomic_and_pruned(tmp_path: Path) -> None:
    for epoch in range(5):
        checkpoint.save(tmp_path, "algo-1", epoch, {"epoch": epoch, "w": torch.ones(2)})
    (tmp_path / "linear-learner-algo-1-epoch-00004.pt").write_bytes(b"torn")  # newest unreadable
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"linear-learner-algo-1-epoch-0000{i}.pt" for i in (2, 3, 4)]
    loaded = checkpoint.load_latest(tmp_path, "algo-1")
    assert loaded is not None and loaded["epoch"] == 3
    assert checkpoint.load_latest(tmp_path, "algo-2") is None


def failure(paths: MLPaths) -> str:
    code, _ = run(paths)
    assert code == 1
    return paths.failure_file.read_text()


def test_label_out_of_range_names_channel_record_and_value(tmp_path: Path) -> None:
    x, y = data()
    y[7] = 2
    message = failure(make_root(tmp_path, {**HPS, "epochs": "1"}, x, y))
    assert message.startswith("ClientError: Channel 'train'")
    assert "label 2.0 of record 7 is invalid" in message and "0 or 1 for binary_classifier" in message


def test_wrong_feature_dim_missing_labels_and_bad_hyperparameter(tmp_path: Path) -> None:
    x, y = data()
    message = failure(make_root(tmp_path / "a", {**HPS, "feature_dim": "9"}, x, y))
    assert "has 4 features per record, expected feature_dim=9" in message
    message = failure(make_root(tmp_path / "b", HPS, x, None))
    assert "records have no label" in message
    message = failure(make_root(tmp_path / "c", {**HPS, "bogus": "1"}, x, y))
    assert message == "ClientError: Extraneous hyperparameter found: bogus"


def test_malformed_file_and_empty_channel(tmp_path: Path) -> None:
    x, y = data()
    paths = make_root(tmp_path / "a", HPS, x, y)
    (paths.channel("train") / "part-1.rec").write_bytes(b"garbage!")
    message = failure(paths)
    assert message.startswith("ClientError: Channel 'train':") and "part-1.rec" in message
    paths = make_root(tmp_path / "b", HPS, x, y)
    (paths.channel("train") / "part-0.rec").unlink()
    assert "No data files found" in failure(paths)


def test_sparse_training_data(tmp_path: Path) -> None:
    import scipy.sparse as sp

    x, y = data(400)
    paths = make_root(tmp_path, {**HPS, "epochs": "5"}, sp.csr_matrix(x), y)
    assert run(paths)[0] == 0
    model = load_model(paths.model)
    assert np.mean(model.predict(sp.csr_matrix(x))["predicted_label"] == y) >= 0.9
    assert not model.scaler.shift.any()  # sparse data is scaled, never shifted


def test_an_epochs_lines_appear_only_after_its_checkpoint_is_written(tmp_path: Path) -> None:
    # A spot notice is sent when the "epoch=N" line is seen; checkpoint N must already be on disk then.
    x, y = data()
    paths = make_root(tmp_path / "root", {**HPS, "epochs": "4"}, x, y, ckpt=True)
    missing: list[str] = []

    def log(line: str) -> None:
        if ", epoch=" in line and " train " in line:
            epoch = int(line.split("epoch=")[1].split(",")[0])
            if not (paths.checkpoints / f"linear-learner-algo-1-epoch-{epoch:05d}.pt").exists():
                missing.append(line)

    assert main({"TRAINPLANE_ML_ROOT": str(paths.root), "SM_NUM_CPUS": "1"}, log=log) == 0
    assert missing == []
