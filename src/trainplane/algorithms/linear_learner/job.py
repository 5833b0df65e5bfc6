"""The container contract: read the config and the channels, run the training, fail cleanly.

This module (and the reading of the data) does not import torch: the channels are read first, so the
reader's temporary memory peak and torch's ~200 MiB of libraries are never resident at the same time.
"""

from __future__ import annotations

import itertools
import json
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from trainplane.algorithms.formats import Dataset
from trainplane.algorithms.formats.pipe import is_pipe
from trainplane.algorithms.linear_learner import data
from trainplane.algorithms.linear_learner.errors import AlgorithmError, ClientError
from trainplane.algorithms.linear_learner.hyperparameters import Hyperparameters, parse
from trainplane.runtime.paths import MLPaths

Log = Callable[[str], None]


def _print(line: str) -> None:
    print(line, flush=True)


def _read_json(path: Path, default: Any) -> Any:
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise ClientError(f"{path.name} is not valid JSON: {exc}") from None


def main(environ: Mapping[str, str], log: Log = _print) -> int:
    """Run one training job under ``TRAINPLANE_ML_ROOT``; 0 on success, 1 after writing output/failure."""
    paths = MLPaths.from_environ(environ)
    cpus = environ.get("SM_NUM_CPUS", "")
    try:
        train(paths, environ.get("SM_CURRENT_HOST", "algo-1"), log, int(cpus) if cpus.isdigit() else 1)
    except (ClientError, AlgorithmError) as exc:
        return _fail(paths, f"{exc.prefix}: {exc}")
    except Exception as exc:
        traceback.print_exc()
        return _fail(paths, f"AlgorithmError: {type(exc).__name__}: {exc}")
    return 0


def _fail(paths: MLPaths, message: str) -> int:
    print(message, file=sys.stderr, flush=True)
    paths.failure_file.parent.mkdir(parents=True, exist_ok=True)
    paths.failure_file.write_text(message)
    return 1


def _load_channels(paths: MLPaths, hp: Hyperparameters, config: dict[str, Any]) -> dict[str, Dataset]:
    unknown = sorted(set(config) - set(data.CHANNELS))
    if unknown:
        raise ClientError(
            f"Unsupported channel(s) {', '.join(unknown)}; Linear Learner accepts train, validation, test."
        )
    if "train" not in config and not paths.channel("train").is_dir():
        raise ClientError("The train channel is required.")
    channels: dict[str, Dataset] = {}
    feature_dim = hp.feature_dim
    for name in data.CHANNELS:
        if name in config or (name == "train" and not config):
            directory = paths.channel(name)
            channels[name] = data.read_channel(name, directory, config.get(name, {}))
            data.check(name, directory, channels[name], hp, feature_dim)
            feature_dim = channels[name].num_features
    return channels


def _later_epochs(
    paths: MLPaths, hp: Hyperparameters, config: dict[str, Any], feature_dim: int
) -> Callable[[], Dataset] | None:
    """In Pipe mode, the training data of epochs 1, 2, ... read from ``train_1``, ``train_2``, ..."""
    train_config = config.get("train", {})
    if not is_pipe(train_config):
        return None
    epochs = itertools.count(1)
    directory = paths.channel("train")

    def next_epoch() -> Dataset:
        dataset = data.read_channel("train", directory, train_config, next(epochs))
        data.check("train", directory, dataset, hp, feature_dim)
        return dataset

    return next_epoch


def train(paths: MLPaths, host: str, log: Log, cpus: int = 1) -> None:
    hp = parse(_read_json(paths.hyperparameters_file, {}))
    config = _read_json(paths.inputdataconfig_file, {})
    channels = _load_channels(paths, hp, config)
    later_epochs = _later_epochs(paths, hp, config, channels["train"].num_features)
    checkpoint_dir = None
    if paths.checkpointconfig_file.exists():
        local = _read_json(paths.checkpointconfig_file, {}).get("LocalPath", "/opt/ml/checkpoints")
        checkpoint_dir = paths.resolve(local)
    else:
        log("Checkpoint loading and saving are disabled.")
    from trainplane.algorithms.linear_learner.fit import fit_and_report  # torch: only now (module docstring)

    fit_and_report(hp, channels, paths.model, checkpoint_dir, host, log, cpus, later_epochs)
