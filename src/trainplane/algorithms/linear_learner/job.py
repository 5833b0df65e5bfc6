"""The container contract around training: read the config, train, select, report, save, fail cleanly."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainplane.algorithms.formats import Dataset
from trainplane.algorithms.linear_learner import checkpoint, data, metrics, selection
from trainplane.algorithms.linear_learner.artifact import LinearLearnerModel
from trainplane.algorithms.linear_learner.errors import AlgorithmError, ClientError
from trainplane.algorithms.linear_learner.hyperparameters import BINARY, MULTICLASS, Hyperparameters, parse
from trainplane.algorithms.linear_learner.losses import make_loss
from trainplane.algorithms.linear_learner.model import MultiLinear, model_grid
from trainplane.algorithms.linear_learner.trainer import EVAL_BATCH, Batcher, FitState, Trainer
from trainplane.runtime.paths import MLPaths

Log = Callable[[str], None]
_MODEL_CHUNK = 8  # models scored at once during calibration: bounds the [rows, models] score matrix


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
    threads = environ.get("SM_NUM_CPUS", "")
    if threads.isdigit() and int(threads) > 0:
        torch.set_num_threads(int(threads))
    try:
        train(paths, environ.get("SM_CURRENT_HOST", "algo-1"), log)
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


def _load_channels(paths: MLPaths, hp: Hyperparameters) -> dict[str, Dataset]:
    config = _read_json(paths.inputdataconfig_file, {})
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


def train(paths: MLPaths, host: str, log: Log) -> None:
    hp = parse(_read_json(paths.hyperparameters_file, {}))
    channels = _load_channels(paths, hp)
    train_data, validation = channels["train"], channels.get("validation")
    checkpoint_dir = None
    if paths.checkpointconfig_file.exists():
        checkpoint_dir = paths.resolve(
            _read_json(paths.checkpointconfig_file, {}).get("LocalPath", "/opt/ml/checkpoints")
        )
    else:
        log("Checkpoint loading and saving are disabled.")
    saved = checkpoint.load_latest(checkpoint_dir, host) if checkpoint_dir else None
    scaler = data.fit_scaler(train_data, hp)
    if saved is not None:
        scale = saved["scaler"]
        scaler = data.Scaler(
            scale["shift"].numpy(), scale["scale"].numpy(), float(scale["label"][0]), float(scale["label"][1])
        )
    settings = model_grid(hp)
    model = MultiLinear(train_data.num_features, hp, settings)
    loss = make_loss(hp, scaler.label_scale)
    trainer = Trainer(hp, train_data, validation, scaler, loss, data.example_weights(train_data, hp), model)
    state = FitState.start(model)
    if saved is not None:
        model.load_state_dict(saved["model"])
        state = FitState.from_checkpoint(saved)
        log(f"Resuming from checkpoint of epoch {state.epoch} in {checkpoint_dir}.")
    log(f"Training {hp.num_models} models for up to {hp.epochs} epochs on {train_data.num_rows} records.")
    state = trainer.fit(state, log, host, checkpoint_dir)
    chosen = select(hp, trainer, state, validation or train_data, loss.name)
    log(
        "Best model found for hyperparameters: "
        + json.dumps(settings.describe(chosen.meta["model_index"], hp))
    )
    chosen.save(paths.model)
    for split, dataset in channels.items():
        report(host, split, chosen, dataset, trainer, state, log)
    log(metrics.progress_line(host, 100))


def select(
    hp: Hyperparameters, trainer: Trainer, state: FitState, calib: Dataset, loss: str
) -> LinearLearnerModel:
    """Pick the final model (and its threshold) on the calibration sample."""
    limit = min(calib.num_rows, hp.num_calibration_samples)
    threshold = selection.default_threshold(loss)
    if hp.predictor_type == BINARY and hp.binary_classifier_model_selection_criteria != "loss_function":
        y = calib.labels[:limit]  # type: ignore[index]
        calibrated = []
        for lo in range(0, hp.num_models, _MODEL_CHUNK):
            scores = _binary_scores(state.best_P[:, lo : lo + _MODEL_CHUNK], calib, trainer, limit, loss)
            calibrated += [selection.calibrate(scores[:, i], y, hp) for i in range(scores.shape[1])]
        index = selection.choose(np.array([value for _, value in calibrated]))
        threshold = calibrated[index][0]
    else:
        index = selection.choose(-trainer.dataset_loss(state.best_P, calib, limit))
    P = state.best_P[:, index]
    return LinearLearnerModel(
        hp.predictor_type,
        loss,
        P[:-1].numpy().copy(),
        P[-1].numpy().copy(),
        trainer.scaler,
        threshold,
        {"model_index": index, "num_classes": hp.num_classes, "feature_dim": int(P.shape[0] - 1)},
    )


def _binary_scores(P: torch.Tensor, data_: Dataset, trainer: Trainer, limit: int, loss: str) -> np.ndarray:
    from trainplane.algorithms.linear_learner.model import linear_scores

    batches = Batcher(data_, trainer.scaler)
    out = np.empty((limit, P.shape[1]), dtype=np.float32)
    for lo in range(0, limit, EVAL_BATCH):
        hi = min(lo + EVAL_BATCH, limit)
        s = linear_scores(P, batches(lo, hi))[..., 0]
        out[lo:hi] = (torch.sigmoid(s) if loss == "logistic" else s).numpy()
    return out


def report(
    host: str,
    split: str,
    chosen: LinearLearnerModel,
    dataset: Dataset,
    trainer: Trainer,
    state: FitState,
    log: Log,
) -> None:
    """Final ``#quality_metric`` lines of the chosen model on one channel."""
    index = chosen.meta["model_index"]
    objective = float(trainer.dataset_loss(state.best_P[:, index : index + 1], dataset)[0])
    log(metrics.final_line(host, split, f"{trainer.loss.objective_name}_objective", "loss", objective))
    y = dataset.labels
    assert y is not None
    prediction = chosen.predict(dataset.features)
    hp = trainer.hp
    if hp.predictor_type == BINARY:
        found = metrics.binary_metrics(prediction["score"], y, chosen.threshold, hp.f_beta)
    elif hp.predictor_type == MULTICLASS:
        found = metrics.multiclass_metrics(prediction["score"], y, hp.accuracy_top_k, hp.f_beta)
    else:
        found = metrics.regression_metrics(prediction["score"], y)
    for name, kind, value in found:
        log(metrics.final_line(host, split, name, kind, value))
