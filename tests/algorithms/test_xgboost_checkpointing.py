"""Checkpoint files: atomic writes, pruning that respects the uploader, resuming from the newest."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import xgboost as xgb

from trainplane.algorithms.xgboost import checkpointing


def _booster(rounds: int) -> xgb.Booster:
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    return xgb.train({"nthread": 1}, xgb.DMatrix(x, label=x[:, 0]), rounds)


def test_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    checkpointing.atomic_write(tmp_path / "f", b"abc")
    assert [p.name for p in tmp_path.iterdir()] == ["f"]
    assert (tmp_path / "f").read_bytes() == b"abc"


def test_prune_keeps_the_newest_and_defers_files_being_uploaded(tmp_path: Path) -> None:
    for i in range(8):
        (tmp_path / f"xgboost-checkpoint.{i}").write_bytes(b"x")
    (tmp_path / "xgboost-checkpoint.0.sagemaker-uploading").touch()
    (tmp_path / "xgboost-checkpoint.1.sagemaker-uploading").touch()
    (tmp_path / "xgboost-checkpoint.1.sagemaker-uploaded").touch()
    checkpointing.prune(tmp_path)
    assert [i for i, _ in checkpointing.list_checkpoints(tmp_path)] == [0, 3, 4, 5, 6, 7]


def test_latest_checkpoint_is_the_highest_numbered(tmp_path: Path) -> None:
    assert checkpointing.latest_checkpoint(tmp_path) is None
    checkpointing.save_booster(_booster(3), tmp_path / "xgboost-checkpoint.2")
    checkpointing.save_booster(_booster(11), tmp_path / "xgboost-checkpoint.10")
    (tmp_path / "xgboost-checkpoint.11.sagemaker-ignore").write_bytes(b"partial")
    found = checkpointing.latest_checkpoint(tmp_path)
    assert found is not None and found[0] == 10 and found[1].num_boosted_rounds() == 11


def test_a_checkpoint_loads_without_a_format_warning_in_either_native_format(tmp_path: Path) -> None:
    # Named by round, the file's suffix says nothing of its format; XGBoost warned when it guessed.
    checkpointing.atomic_write(tmp_path / "xgboost-checkpoint.4", bytes(_booster(5).save_raw("json")))
    # XGBoost warns from a ctypes callback, where an exception would be swallowed: record instead.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = checkpointing.latest_checkpoint(tmp_path)
        assert found is not None and found[1].num_boosted_rounds() == 5
        checkpointing.save_booster(_booster(6), tmp_path / "xgboost-checkpoint.5")  # UBJSON
        found = checkpointing.latest_checkpoint(tmp_path)
    assert found is not None and found[0] == 5 and found[1].num_boosted_rounds() == 6
    assert [str(w.message) for w in caught] == []


def test_callback_names_checkpoints_by_absolute_round(tmp_path: Path) -> None:
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    dtrain = xgb.DMatrix(x, label=x[:, 0])
    callback = checkpointing.CheckpointCallback(tmp_path, keep=3)
    xgb.train({"nthread": 1}, dtrain, 4, xgb_model=_booster(2), callbacks=[callback])
    assert [i for i, _ in checkpointing.list_checkpoints(tmp_path)] == [3, 4, 5]
