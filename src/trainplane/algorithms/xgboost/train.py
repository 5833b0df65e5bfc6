"""The training job: validate, load the channels, resume, boost, save.

Shaped like a plain training script; the round loop is ``xgboost.train`` itself, and everything that
happens per round (metric lines, checkpoints, early stopping, SIGTERM) is a callback.
"""

from __future__ import annotations

import sys
from typing import Any

import xgboost as xgb

from trainplane.algorithms.xgboost import checkpointing
from trainplane.algorithms.xgboost.callbacks import MetricPrinter, StopOnSigterm
from trainplane.algorithms.xgboost.contract import JobContract
from trainplane.algorithms.xgboost.data import TRAIN, VALIDATION, load_channels
from trainplane.algorithms.xgboost.errors import classify_training_error
from trainplane.algorithms.xgboost.hyperparameters import validate
from trainplane.algorithms.xgboost.settings import TrainingSettings, apply_xgboost_1_defaults, build_settings
from trainplane.algorithms.xgboost.validation_split import splittable

MODEL_NAME = "xgboost-model"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _resume(contract: JobContract) -> tuple[xgb.Booster | None, int]:
    """The newest checkpoint's booster and how many rounds it already holds."""
    if contract.checkpoint_dir is None:
        return None, 0
    found = checkpointing.latest_checkpoint(contract.checkpoint_dir)
    if found is None:
        return None, 0
    iteration, booster = found
    _log(f"Resuming from checkpoint xgboost-checkpoint.{iteration} ({iteration + 1} rounds done).")
    return booster, iteration + 1


def _callbacks(contract: JobContract, settings: TrainingSettings, stop: StopOnSigterm | None) -> list[Any]:
    callbacks: list[Any] = []
    if contract.checkpoint_dir is not None and contract.is_master:
        # Before the metric line: a round the log reports (what step schedules and spot-test count) is
        # a round already on disk, so a notice sent on seeing it never finds it unsaved.
        callbacks.append(checkpointing.CheckpointCallback(contract.checkpoint_dir))
    callbacks.append(MetricPrinter())
    if settings.early_stopping_rounds is not None:
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=settings.early_stopping_rounds,
                metric_name=settings.early_stopping_metric,
                maximize=settings.maximize,
                save_best=False,
            )
        )
    if stop is not None:
        callbacks.append(stop)
    return callbacks


def _notice_message(contract: JobContract, last_round: int | None) -> str:
    if last_round is None:
        return "Training stopped by SIGTERM; saving the model trained so far."
    saved = ""
    if contract.checkpoint_dir is not None and contract.is_master:
        saved = f", checkpoint {checkpointing.PREFIX}{last_round} written"
    return f"Training stopped by SIGTERM after round {last_round}{saved}; saving the model trained so far."


def _best_model(booster: xgb.Booster, settings: TrainingSettings) -> xgb.Booster:
    """With early stopping, keep only the rounds up to the best one (what the container saves)."""
    best = booster.attr("best_iteration")
    if settings.early_stopping_rounds is None or best is None:
        return booster
    if int(best) + 1 >= booster.num_boosted_rounds() or settings.params.get("booster") == "gblinear":
        return booster  # nothing to cut, or a linear model (one weight vector, cannot be sliced)
    _log(f"Early stopping: keeping the best iteration {best}.")
    return booster[: int(best) + 1]


def boost(
    settings: TrainingSettings,
    dmatrices: dict[str, xgb.DMatrix],
    callbacks: list[Any],
    start: xgb.Booster | None,
    rounds: int,
) -> xgb.Booster:
    """``xgboost.train`` for ``rounds`` more rounds; XGBoost errors become User/AlgorithmError."""
    evals = [(dmatrices[name], name) for name in (TRAIN, VALIDATION) if name in dmatrices]
    metric = None
    if settings.custom_metrics:
        from trainplane.algorithms.xgboost.custom_metrics import custom_metric

        metric = custom_metric(settings.custom_metrics, settings.objective)
    try:
        return xgb.train(
            settings.params,
            dmatrices[TRAIN],
            num_boost_round=rounds,
            evals=evals,
            custom_metric=metric,
            verbose_eval=False,
            xgb_model=start,
            callbacks=callbacks,
        )
    except (xgb.core.XGBoostError, ValueError) as exc:
        raise classify_training_error(exc) from exc


def run(contract: JobContract, extra_params: dict[str, Any] | None = None) -> None:
    """The whole job; raises UserError/AlgorithmError on failure. ``extra_params`` (e.g. the device
    chosen by ``distributed.run``) are added to XGBoost's parameters."""
    settings = build_settings(validate(contract.hyperparameters), contract.num_cpus)
    settings.params.update(extra_params or {})
    split = splittable(settings.objective, settings.native_metrics, settings.custom_metrics)
    dmatrices = load_channels(contract, settings.csv_weights, int(settings.params["nthread"]), split)
    _log(", ".join(f"{name}: {d.num_row()} rows x {d.num_col()} features" for name, d in dmatrices.items()))
    if contract.xgboost_1_defaults:
        apply_xgboost_1_defaults(settings.params, dmatrices[TRAIN].num_row(), len(contract.hosts) > 1)
    start, done = _resume(contract)
    stop = StopOnSigterm() if settings.save_model_on_termination else None
    if start is not None and done >= settings.num_round:
        booster = start
    else:
        callbacks = _callbacks(contract, settings, stop)
        booster = boost(settings, dmatrices, callbacks, start, settings.num_round - done)
    if stop is not None and stop.requested:
        _log(_notice_message(contract, stop.stopped_after))
    if contract.is_master:
        contract.paths.model.mkdir(parents=True, exist_ok=True)
        checkpointing.save_booster(_best_model(booster, settings), contract.paths.model / MODEL_NAME)
