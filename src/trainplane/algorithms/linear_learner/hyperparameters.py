"""Linear Learner hyperparameters: parsing, validation and the ``auto`` rules (reference §9.2).

Values arrive as strings from hyperparameters.json (possibly JSON-quoted by the SDK). ``parse`` returns a
frozen :class:`Hyperparameters` with every ``auto`` resolved except those that need the data
(``positive_example_weight_mult``), and raises :class:`ClientError` naming the first bad value.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from trainplane.algorithms.linear_learner.errors import ClientError

BINARY, MULTICLASS, REGRESSOR = "binary_classifier", "multiclass_classifier", "regressor"
LOSSES = {
    REGRESSOR: (
        "squared_loss",
        "absolute_loss",
        "eps_insensitive_squared_loss",
        "eps_insensitive_absolute_loss",
        "quantile_loss",
        "huber_loss",
    ),
    BINARY: ("logistic", "hinge_loss"),
    MULTICLASS: ("softmax_loss",),
}
CRITERIA = ("accuracy", "f_beta", "precision_at_target_recall", "recall_at_target_precision", "loss_function")
_LEGACY_CRITERIA = {"f1": "f_beta", "cross_entropy_loss": "loss_function"}
# Keys SageMaker's own container tolerates without using (default-input.json) and the platform's own.
_HIDDEN = {
    "_tuning_objective_metric",
    "_kvstore",
    "_num_kv_servers",
    "_num_gpus",
    "_log_level",
    "_enable_profiler",
}
# optimizer -> learning rate for learning_rate=auto (chosen so the 32-model grid brackets good values)
AUTO_LEARNING_RATE = {"adam": 0.01, "rmsprop": 0.01, "sgd": 0.1}
AUTO_NUM_MODELS = 32


@dataclass(frozen=True)
class Hyperparameters:
    predictor_type: str
    num_classes: int = 1
    feature_dim: int | None = None
    mini_batch_size: int = 1000
    epochs: int = 15
    optimizer: str = "adam"
    learning_rate: float = 0.01
    momentum: float = 0.0
    beta_1: float = 0.9
    beta_2: float = 0.999
    wd: float = 0.0
    l1: float = 0.0
    bias_lr_mult: float = 1.0
    bias_wd_mult: float = 0.0
    use_lr_scheduler: bool = True
    lr_scheduler_step: int | None = None  # None: once per epoch (decided when the batch count is known)
    lr_scheduler_factor: float = 0.99
    lr_scheduler_minimum_lr: float = 1e-5
    loss: str = "logistic"
    margin: float = 1.0
    quantile: float = 0.5
    loss_insensitivity: float = 0.01
    huber_delta: float = 1.0
    use_bias: bool = True
    init_method: str = "uniform"
    init_scale: float = 0.07
    init_sigma: float = 0.01
    init_bias: float = 0.0
    normalize_data: bool = True
    normalize_label: bool = False
    unbias_data: bool | None = None  # None: shift dense data only
    unbias_label: bool = False
    num_point_for_scaler: int = 10_000
    num_models: int = AUTO_NUM_MODELS
    num_calibration_samples: int = 10_000_000
    binary_classifier_model_selection_criteria: str = "accuracy"
    target_recall: float = 0.8
    target_precision: float = 0.8
    f_beta: float = 1.0
    positive_example_weight_mult: float | str = 1.0  # float, or "balanced" (resolved from the labels)
    balance_multiclass_weights: bool = False
    accuracy_top_k: int = 3
    early_stopping_patience: int = 3
    early_stopping_tolerance: float = 0.001
    # What early stopping watches on the validation data: the selection criterion when the job names
    # one for a binary classifier (as SageMaker documents it), else None: the loss.
    early_stopping_criterion: str | None = None
    tuning_objective_metric: str | None = None
    # SageMaker's hidden ``_kvstore`` (MXNet's kvstore type), used only with several hosts: "dist_sync"
    # all-reduces the gradient at every step; anything else (default "auto") averages the hosts' models
    # every few local steps (see ``trainer.Trainer.train_epoch``).
    kvstore: str = "auto"

    @property
    def num_outputs(self) -> int:
        return self.num_classes if self.predictor_type == MULTICLASS else 1


def _decode(raw: Any) -> str:
    """The SDK JSON-encodes values, so ``"\\"adam\\""`` and ``"adam"`` mean the same thing."""
    text = str(raw).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return str(json.loads(text))
        except ValueError:
            pass
    return text


def _bad(name: str, value: str, rule: str) -> ClientError:
    return ClientError(f"Failed to validate input hyperparameters: {name} must be {rule}; got '{value}'.")


def _number(
    kind: Callable[[str], Any],
    low: float | None,
    high: float | None,
    low_open: bool = False,
    high_open: bool = False,
    auto: bool = False,
) -> Callable[[str, str], Any]:
    def parse(name: str, value: str) -> Any:
        if auto and value.lower() == "auto":
            return None
        try:
            number = kind(float(value)) if kind is int and float(value).is_integer() else kind(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not math.isfinite(number):
            raise _bad(name, value, _describe(kind, low, high, low_open, high_open, auto))
        if (low is not None and (number < low or (low_open and number == low))) or (
            high is not None and (number > high or (high_open and number == high))
        ):
            raise _bad(name, value, _describe(kind, low, high, low_open, high_open, auto))
        return number

    return parse


def _describe(kind: Any, low: Any, high: Any, low_open: bool, high_open: bool, auto: bool) -> str:
    what = "an integer" if kind is int else "a number"
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        bounds.append(f"{'<' if high_open else '<='} {high}")
    text = what + (" " + " and ".join(bounds) if bounds else "")
    return ("'auto' or " + text) if auto else text


def _choice(*options: str) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        if value.lower() not in options:
            raise _bad(name, value, "one of " + ", ".join(options))
        return value.lower()

    return parse


_BOOL = _choice("true", "false")
_TRI = _choice("auto", "true", "false")
_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "predictor_type": _choice(BINARY, MULTICLASS, REGRESSOR),
    "num_classes": _number(int, 3, 1_000_000),
    "feature_dim": _number(int, 0, None, low_open=True, auto=True),
    "mini_batch_size": _number(int, 0, None, low_open=True),
    "epochs": _number(int, 0, None, low_open=True),
    "optimizer": _choice("auto", "sgd", "adam", "rmsprop"),
    "learning_rate": _number(float, 0, None, low_open=True, auto=True),
    "momentum": _number(float, 0, 1, high_open=True, auto=True),
    "beta_1": _number(float, 0, 1, high_open=True, auto=True),
    "beta_2": _number(float, 0, 1, high_open=True, auto=True),
    "wd": _number(float, 0, None, auto=True),
    "l1": _number(float, 0, None, auto=True),
    "bias_lr_mult": _number(float, 0, None, low_open=True, auto=True),
    "bias_wd_mult": _number(float, 0, None, auto=True),
    "use_lr_scheduler": _BOOL,
    "lr_scheduler_step": _number(int, 0, None, low_open=True, auto=True),
    "lr_scheduler_factor": _number(float, 0, 1, low_open=True, high_open=True, auto=True),
    "lr_scheduler_minimum_lr": _number(float, 0, None, low_open=True, auto=True),
    "loss": _choice("auto", *sorted({loss for group in LOSSES.values() for loss in group})),
    "margin": _number(float, 0, None),
    "quantile": _number(float, 0, 1, low_open=True, high_open=True),
    "loss_insensitivity": _number(float, 0, None, low_open=True),
    "huber_delta": _number(float, 0, None, low_open=True),  # 0: a loss that is 0 everywhere
    "use_bias": _BOOL,
    "init_method": _choice("uniform", "normal"),
    "init_scale": _number(float, 0, None, low_open=True),
    "init_sigma": _number(float, 0, None, low_open=True),
    "init_bias": _number(float, None, None),
    "normalize_data": _TRI,
    "normalize_label": _TRI,
    "unbias_data": _TRI,
    "unbias_label": _TRI,
    "num_point_for_scaler": _number(int, 0, None, low_open=True),
    "num_models": _number(int, 0, None, low_open=True, auto=True),
    "num_calibration_samples": _number(int, 0, None, low_open=True, auto=True),
    "binary_classifier_model_selection_criteria": _choice(*CRITERIA, *_LEGACY_CRITERIA),
    "target_recall": _number(float, 0, 1, low_open=True, high_open=True),
    "target_precision": _number(float, 0, 1, low_open=True, high_open=True),
    "f_beta": _number(float, 0, None, low_open=True),
    "positive_example_weight_mult": _number(float, 0, None, low_open=True),  # 'auto'/'balanced' special-cased
    "balance_multiclass_weights": _BOOL,
    "accuracy_top_k": _number(int, 1, 1_000_000),
    "early_stopping_patience": _number(int, 0, None, low_open=True),
    "early_stopping_tolerance": _number(float, 0, None, low_open=True),
}


def parse(raw: Mapping[str, Any]) -> Hyperparameters:
    """Validate hyperparameters.json's mapping and resolve the ``auto`` rules."""
    values = {name: _decode(value) for name, value in raw.items()}
    for name in values:
        if name not in _PARSERS and name not in _HIDDEN and not name.startswith("sagemaker_"):
            raise ClientError(f"Extraneous hyperparameter found: {name}")
    if "predictor_type" not in values:
        raise ClientError("Missing required hyperparameter: predictor_type")
    parsed: dict[str, Any] = {}
    for name, value in values.items():
        if name == "positive_example_weight_mult" and value.lower() in ("auto", "balanced"):
            parsed[name] = value.lower()
        elif name in _PARSERS:
            parsed[name] = _PARSERS[name](name, value)
    resolved = _resolve(parsed, values.get("_tuning_objective_metric"))
    return dataclasses.replace(resolved, kvstore=values.get("_kvstore", "auto").lower())


def problem(raw: Mapping[str, Any]) -> str | None:
    """Why ``parse`` would refuse ``raw``, or None: for checks made before any job runs."""
    try:
        parse(raw)
    except ClientError as exc:
        return str(exc)
    return None


def _stopping_criterion(ptype: str, p: dict[str, Any]) -> str | None:
    """The criterion early stopping watches: only one the job gave explicitly (the default, accuracy,
    still stops on the loss), and never the loss itself."""
    given = p.get("binary_classifier_model_selection_criteria")
    criterion = _LEGACY_CRITERIA.get(given, given) if given is not None else None
    return criterion if ptype == BINARY and criterion != "loss_function" else None


def _resolve(p: dict[str, Any], tuning_metric: str | None) -> Hyperparameters:
    ptype = p["predictor_type"]
    if ptype == MULTICLASS and p.get("num_classes") is None:
        raise ClientError("Missing required hyperparameter: num_classes (required for multiclass_classifier)")
    loss = p.get("loss", "auto")
    if loss == "auto":
        loss = LOSSES[ptype][0] if ptype != BINARY else "logistic"
    if loss not in LOSSES[ptype]:
        raise ClientError(
            f"Failed to validate input hyperparameters: loss '{loss}' is not valid for predictor_type "
            f"{ptype}; choose one of {', '.join(LOSSES[ptype])}."
        )
    optimizer = p.get("optimizer", "auto")
    optimizer = "adam" if optimizer == "auto" else optimizer
    criteria = p.get("binary_classifier_model_selection_criteria", "accuracy")
    defaults = {f.name: f.default for f in fields(Hyperparameters)}

    def pick(name: str, auto_value: Any = None) -> Any:
        value = p.get(name)
        if value is None:
            return defaults[name] if auto_value is None else auto_value
        return value

    regression = ptype == REGRESSOR
    tri = {"auto": None, "true": True, "false": False}
    normalize_label = tri[p.get("normalize_label", "auto")]
    unbias_label = tri[p.get("unbias_label", "auto")]
    resolved = {name: pick(name) for name in defaults if name in p and p[name] is not None}
    resolved.update(
        predictor_type=ptype,
        num_classes=p.get("num_classes", 1) if ptype == MULTICLASS else 1,
        feature_dim=p.get("feature_dim"),
        optimizer=optimizer,
        loss=loss,
        learning_rate=pick("learning_rate", AUTO_LEARNING_RATE[optimizer]),
        momentum=pick("momentum"),
        beta_1=pick("beta_1"),
        beta_2=pick("beta_2"),
        wd=pick("wd"),
        l1=pick("l1"),
        bias_lr_mult=pick("bias_lr_mult"),
        bias_wd_mult=pick("bias_wd_mult"),
        lr_scheduler_step=p.get("lr_scheduler_step"),
        lr_scheduler_factor=pick("lr_scheduler_factor"),
        lr_scheduler_minimum_lr=pick("lr_scheduler_minimum_lr"),
        use_lr_scheduler=p.get("use_lr_scheduler", "true") == "true",
        use_bias=p.get("use_bias", "true") == "true",
        balance_multiclass_weights=p.get("balance_multiclass_weights", "false") == "true",
        normalize_data=tri[p.get("normalize_data", "auto")] is not False,
        # Labels are only ever normalised for regression (classification ignores the flag).
        normalize_label=regression and normalize_label is not False,
        unbias_data=tri[p.get("unbias_data", "auto")],
        unbias_label=regression
        and (unbias_label if unbias_label is not None else normalize_label is not False),
        binary_classifier_model_selection_criteria=_LEGACY_CRITERIA.get(criteria, criteria),
        early_stopping_criterion=_stopping_criterion(ptype, p),
        positive_example_weight_mult=p.get("positive_example_weight_mult", 1.0),
        num_models=1 if tuning_metric else pick("num_models", AUTO_NUM_MODELS),
        num_calibration_samples=pick("num_calibration_samples"),
        tuning_objective_metric=tuning_metric,
    )
    return Hyperparameters(**resolved)
