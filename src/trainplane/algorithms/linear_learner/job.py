"""The container contract: read the config and the channels, run the training, fail cleanly.

This module and the readers do not import torch themselves: torch is imported on a background thread
while the channels are read (``_import_torch_meanwhile``). Its import (~1 s) is mostly the loading of
native libraries, and the readers spend most of their time in Arrow and NumPy code that releases the
GIL, so the two overlap instead of adding up. The readers stream into one preallocated matrix, so their
temporary memory is small beside torch's ~200 MiB of libraries that training needs anyway.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainplane.algorithms.formats import DataFormatError, Dataset
from trainplane.algorithms.formats.pipe import channel_has_data, is_pipe
from trainplane.algorithms.linear_learner import data
from trainplane.algorithms.linear_learner.errors import AlgorithmError, ClientError
from trainplane.algorithms.linear_learner.hyperparameters import Hyperparameters, parse
from trainplane.runtime.paths import MLPaths

if TYPE_CHECKING:
    from trainplane.algorithms.linear_learner.distributed import Collective

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
    host = environ.get("SM_CURRENT_HOST", "algo-1")
    try:
        distributed = environ if _world_size(environ) > 1 else None
        train(paths, host, log, int(cpus) if cpus.isdigit() else 1, distributed)
    except (ClientError, AlgorithmError) as exc:
        return _fail(paths, f"{exc.prefix}: {exc}")
    except Exception as exc:
        traceback.print_exc()
        return _fail(paths, f"AlgorithmError: {type(exc).__name__}: {exc}")
    return 0


def _world_size(environ: Mapping[str, str]) -> int:
    value = environ.get("WORLD_SIZE", "")
    return int(value) if value.isdigit() else 1


def _missing_data(paths: MLPaths, config: dict[str, Any]) -> str | None:
    """SageMaker's inclusion rule for a host of a multi-host job, as what this host lacks: None when it
    has train data, and validation data when that channel exists."""
    validation = paths.channel("validation")
    try:
        if not channel_has_data(paths.channel("train"), config.get("train", {})):
            return "no training data"
        exists = "validation" in config or validation.is_dir()
        if exists and not channel_has_data(validation, config.get("validation", {})):
            return "training data but no validation data"
    except DataFormatError as exc:
        raise ClientError(str(exc)) from None
    return None


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


def train(
    paths: MLPaths, host: str, log: Log, cpus: int = 1, distributed: Mapping[str, str] | None = None
) -> None:
    """One host's part of the job; ``distributed`` (the environment, when WORLD_SIZE > 1) makes it one
    member of a multi-host job (see ``distributed``)."""
    hp = parse(_read_json(paths.hyperparameters_file, {}))
    config = _read_json(paths.inputdataconfig_file, {})
    missing = _missing_data(paths, config) if distributed else None
    _import_torch_meanwhile(distributed is not None)
    channels = _load_channels(paths, hp, config) if missing is None else {}
    collective = None
    if distributed:
        from trainplane.algorithms.linear_learner.distributed import Cluster, join

        collective = join(Cluster.from_environ(distributed), missing is None)
        if collective is None:
            log(f"Host {host} has {missing}; it is excluded from distributed training.")
            return
    try:
        _fit(paths, hp, config, channels, host, log, cpus, collective)
    finally:
        if collective is not None:
            collective.close()


def _import_torch_meanwhile(distributed: bool) -> None:
    """Start importing torch (and torch.distributed) on a daemon thread; the main thread's own
    ``import torch`` later waits for it through the import lock, or finds it done."""

    def load() -> None:
        import torch

        if distributed:
            import torch.distributed  # noqa: F401

    threading.Thread(target=load, name="import-torch", daemon=True).start()


def _fit(
    paths: MLPaths,
    hp: Hyperparameters,
    config: dict[str, Any],
    channels: dict[str, Dataset],
    host: str,
    log: Log,
    cpus: int,
    collective: Collective | None,
) -> None:
    later_epochs = _later_epochs(paths, hp, config, channels["train"].num_features)
    checkpoint_dir = None
    if paths.checkpointconfig_file.exists():
        local = _read_json(paths.checkpointconfig_file, {}).get("LocalPath", "/opt/ml/checkpoints")
        checkpoint_dir = paths.resolve(local)
    else:
        log("Checkpoint loading and saving are disabled.")
    from trainplane.algorithms.linear_learner.fit import fit_and_report  # torch: only now (module docstring)

    fit_and_report(hp, channels, paths.model, checkpoint_dir, host, log, cpus, later_epochs, collective)
