"""Per-round checkpoints in the container's layout, for spot restarts and resumed jobs.

``xgboost-checkpoint.<i>`` holds the model after round ``i`` (zero-based) in XGBoost's native
(UBJSON) format. Files are written as ``<name>.sagemaker-ignore`` (never uploaded), fsynced and
renamed, so the uploader never sees half a model. Only the newest five are kept; a file the uploader
is still copying (``.sagemaker-uploading`` without ``.sagemaker-uploaded``) is deleted on a later
round instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import xgboost as xgb

PREFIX = "xgboost-checkpoint."
KEEP = 5
TEMP_SUFFIX = ".sagemaker-ignore"
_NAME = re.compile(r"^xgboost-checkpoint\.(\d+)$")


def atomic_write(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that readers only ever see the whole file."""
    temp = path.with_name(path.name + TEMP_SUFFIX)
    with temp.open("wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def save_booster(booster: xgb.Booster, path: Path) -> None:
    atomic_write(path, bytes(booster.save_raw("ubj")))


def load_booster(path: Path) -> xgb.Booster:
    """A model file in XGBoost's native format (a checkpoint, ``xgboost-model``), read from its bytes,
    which XGBoost reads by their content: from the file it goes by the name's suffix (here a round
    number, or none) and warns in the job's log that it guessed the format."""
    booster = xgb.Booster()
    booster.load_model(bytearray(path.read_bytes()))
    return booster


def list_checkpoints(directory: Path) -> list[tuple[int, Path]]:
    """(iteration, path) of every checkpoint in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def latest_checkpoint(directory: Path) -> tuple[int, xgb.Booster] | None:
    """The highest-numbered checkpoint's iteration and booster, or None."""
    checkpoints = list_checkpoints(directory)
    if not checkpoints:
        return None
    iteration, path = checkpoints[-1]
    return iteration, load_booster(path)


def _uploading(path: Path) -> bool:
    marker = path.with_name(path.name + ".sagemaker-uploading")
    done = path.with_name(path.name + ".sagemaker-uploaded")
    return marker.exists() and not done.exists()


def prune(directory: Path, keep: int = KEEP) -> None:
    """Delete all but the ``keep`` newest checkpoints, skipping those still being uploaded."""
    for _, path in list_checkpoints(directory)[:-keep]:
        if not _uploading(path):
            path.unlink(missing_ok=True)


class CheckpointCallback(xgb.callback.TrainingCallback):
    """Save ``xgboost-checkpoint.<round>`` after every round, ``round`` counted over the whole model
    (xgboost.train restarts epochs at 0 when continuing a checkpoint; the names must not)."""

    def __init__(self, directory: Path, keep: int = KEEP) -> None:
        super().__init__()
        self.directory = directory
        self.keep = keep

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: dict) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        save_booster(model, self.directory / f"{PREFIX}{model.num_boosted_rounds() - 1}")
        prune(self.directory, self.keep)
        return False
