"""The torch side of a job: train, select and calibrate, save the model, print the final metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from trainplane.algorithms.formats import Dataset, is_sparse
from trainplane.algorithms.linear_learner import checkpoint, data, metrics, selection
from trainplane.algorithms.linear_learner.artifact import LinearLearnerModel
from trainplane.algorithms.linear_learner.distributed import Collective
from trainplane.algorithms.linear_learner.hyperparameters import BINARY, MULTICLASS, Hyperparameters
from trainplane.algorithms.linear_learner.losses import make_loss
from trainplane.algorithms.linear_learner.model import MultiLinear, linear_scores, model_grid
from trainplane.algorithms.linear_learner.trainer import EVAL_BATCH, Batcher, FitState, Trainer

Log = Callable[[str], None]
_WORK_PER_THREAD = 16_000_000  # multiply-adds per mini-batch step that justify one more thread
_MODEL_CHUNK = 4  # models scored at once during calibration: bounds the [rows, models] score matrix
# Rows of validation data the per-epoch criterion is calibrated on: a sort per model per epoch, so a
# sample (SageMaker's log calls the value sampled_<criterion> too) keeps an epoch's overhead small.
STOPPING_SAMPLE_ROWS = 100_000


def threads_for(hp: Hyperparameters, num_features: int, cpus: int) -> int:
    """Intra-op threads: a 1000 x 50 x 32 step is ~0.1 ms of GEMM, where OpenMP's fork/join (and, on a
    shared machine, waiting for a descheduled worker) costs more than it saves; only big steps get threads."""
    work = hp.mini_batch_size * num_features * hp.num_models * hp.num_outputs
    return max(1, min(cpus, work // _WORK_PER_THREAD))


def _restore_scaler(saved: dict) -> data.Scaler:
    scale = saved["scaler"]
    label = scale["label"]
    return data.Scaler(scale["shift"].numpy(), scale["scale"].numpy(), float(label[0]), float(label[1]))


def fit_and_report(
    hp: Hyperparameters,
    channels: dict[str, Dataset],
    model_dir: Path,
    checkpoint_dir: Path | None,
    host: str,
    log: Log,
    cpus: int = 1,
    later_epochs: Callable[[], Dataset] | None = None,
    collective: Collective | None = None,
) -> LinearLearnerModel | None:
    """Train, select, save and report. ``later_epochs`` (Pipe mode) gives each further epoch's data.

    With several hosts (``collective``), every host trains; only the leader prints metric lines,
    checkpoints, selects, saves and returns the model (the others return None).
    """
    group = collective or Collective()
    train_data, validation = channels["train"], channels.get("validation")
    torch.set_num_threads(threads_for(hp, train_data.num_features, cpus))
    if not group.is_leader:
        log = _without_metrics(log)
    saved = checkpoint.load_latest(checkpoint_dir, host) if checkpoint_dir and group.is_leader else None
    saved = group.broadcast(saved)
    scaler = _restore_scaler(saved) if saved is not None else _fit_scaler(train_data, hp, group)
    settings = model_grid(hp)
    model = MultiLinear(train_data.num_features, hp, settings)
    loss = make_loss(hp, scaler.label_scale)
    weights = data.example_weights(train_data, hp)
    trainer = Trainer(hp, train_data, validation, scaler, loss, weights, model, group)
    trainer.epoch_source = later_epochs
    if validation is not None and hp.early_stopping_criterion is not None:
        trainer.stopping_criterion = sampled_criterion(trainer, validation)
    state = FitState.start(model)
    if saved is not None:
        model.load_state_dict(saved["model"])
        state = FitState.from_checkpoint(saved)
        log(f"Resuming from the checkpoint of epoch {state.epoch} in {checkpoint_dir}.")
    hosts = f" ({group.world_size} hosts in all)" if group.world_size > 1 else ""
    rows = train_data.num_rows
    log(f"Training {hp.num_models} models for up to {hp.epochs} epochs on {rows} records{hosts}.")
    state = trainer.fit(state, log, host, checkpoint_dir)
    if not group.is_leader:
        return None
    chosen = select(hp, trainer, state, validation or train_data)
    described = settings.describe(chosen.meta["model_index"], hp)
    log("Best model found for hyperparameters: " + json.dumps(described))
    chosen.save(model_dir)
    for split, dataset in channels.items():
        report(host, split, chosen, dataset, trainer, state, log)
    if state.epoch + 1 < hp.epochs:  # stopped early: the last epoch's line said less than 100 %
        log(metrics.progress_line(host, 100))
    return chosen


def _fit_scaler(train_data: Dataset, hp: Hyperparameters, group: Collective) -> data.Scaler:
    """Normalisation statistics of ``num_point_for_scaler`` rows in all, an equal share from each host."""
    if group.world_size == 1:
        return data.fit_scaler(train_data, hp)
    share = -(-hp.num_point_for_scaler // group.world_size)
    moments = torch.from_numpy(data.scaler_moments(train_data, hp, share))
    sparse = torch.tensor([1.0 if is_sparse(train_data.features) else 0.0], dtype=torch.float64)
    summed = group.all_sum(torch.cat([moments, sparse])).numpy()
    return data.scaler_from_moments(summed[:-1], hp, bool(summed[-1] > 0))


def _without_metrics(log: Log) -> Log:
    """The log of a host other than the leader: no metric lines, which the leader alone prints (§11.14)."""

    def quiet(line: str) -> None:
        if not line.startswith("#"):
            log(line)

    return quiet


def select(hp: Hyperparameters, trainer: Trainer, state: FitState, calib: Dataset) -> LinearLearnerModel:
    """Pick the final model (and its threshold) on the calibration sample."""
    limit = min(calib.num_rows, hp.num_calibration_samples)
    threshold = selection.default_threshold(hp.loss)
    if hp.predictor_type == BINARY and hp.binary_classifier_model_selection_criteria != "loss_function":
        calibrated = _calibrated(state.best_P, calib, limit, trainer)
        index = selection.choose(np.array([value for _, value in calibrated]))
        threshold = calibrated[index][0]
    else:
        index = selection.choose(-trainer.dataset_loss(state.best_P, calib, limit))
    P = state.best_P[:, index]
    meta = {"model_index": index, "num_classes": hp.num_classes, "feature_dim": int(P.shape[0] - 1)}
    weights, bias = P[:-1].numpy().copy(), P[-1].numpy().copy()
    return LinearLearnerModel(hp.predictor_type, hp.loss, weights, bias, trainer.scaler, threshold, meta)


def _calibrated(P: torch.Tensor, dataset: Dataset, limit: int, trainer: Trainer) -> list[tuple[float, float]]:
    """(threshold, criterion value) of every model in ``P``, calibrated on ``dataset``'s first rows."""
    y = np.asarray(dataset.labels)[:limit]
    models = P.shape[1]
    buffer = np.empty((min(_MODEL_CHUNK, models), limit), dtype=np.float32)  # reused per chunk
    calibrated = []
    for lo in range(0, models, _MODEL_CHUNK):
        scores = _binary_scores(P[:, lo : lo + _MODEL_CHUNK], dataset, trainer, buffer)
        calibrated += [selection.calibrate(scores[i], y, trainer.hp) for i in range(scores.shape[0])]
    return calibrated


def sampled_criterion(trainer: Trainer, validation: Dataset) -> Callable[[torch.Tensor], float]:
    """The early-stopping value of a binary job that names its criterion: the best model's calibrated
    criterion on a sample of the validation data (the first ``STOPPING_SAMPLE_ROWS`` rows at most)."""
    limit = min(validation.num_rows, trainer.hp.num_calibration_samples, STOPPING_SAMPLE_ROWS)

    def best(P: torch.Tensor) -> float:
        return max(value for _, value in _calibrated(P, validation, limit, trainer))

    return best


def _binary_scores(P: torch.Tensor, dataset: Dataset, trainer: Trainer, buffer: np.ndarray) -> np.ndarray:
    """Scores ``[models, rows]`` in the space the threshold applies to: probabilities for logistic,
    margins for hinge. Written into ``buffer`` (model-major, so each model's scores are contiguous)."""
    batches = Batcher(dataset, trainer.scaler)
    limit = buffer.shape[1]
    out = buffer[: P.shape[1]]
    for lo in range(0, limit, EVAL_BATCH):
        hi = min(lo + EVAL_BATCH, limit)
        s = linear_scores(P, batches(lo, hi))[..., 0]
        out[:, lo:hi] = (torch.sigmoid(s) if trainer.hp.loss == "logistic" else s).numpy().T
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
    y = np.asarray(dataset.labels)
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
