"""Validation of algorithm-mode hyperparameters, with the container's rules and messages.

Every value arrives as a string (hyperparameters.json); SDK framework estimators JSON-encode strings,
so a value wrapped in double quotes is decoded first. The result maps canonical names (aliases
resolved) to typed values; :mod:`.settings` turns it into XGBoost parameters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trainplane.algorithms.xgboost import rules
from trainplane.algorithms.xgboost.errors import UserError
from trainplane.algorithms.xgboost.rules import LINEAR_UPDATERS, TREE_UPDATERS

ALIASES = {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha"}
OBJECTIVES = (
    "reg:squarederror",
    "reg:linear",
    "reg:logistic",
    "reg:gamma",
    "reg:tweedie",
    "reg:pseudohubererror",
    "reg:squaredlogerror",
    "reg:absoluteerror",
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "count:poisson",
    "multi:softmax",
    "multi:softprob",
    "rank:pairwise",
    "rank:ndcg",
    "rank:map",
    "survival:aft",
    "survival:cox",
)


@dataclass(frozen=True)
class _Spec:
    parse: Callable[[str], Any]
    valid: Callable[[Any], bool]
    range_text: str


def _interval(
    kind: type, lo: float = -math.inf, hi: float = math.inf, open_lo: bool = False, open_hi: bool = False
) -> _Spec:
    def parse(text: str) -> Any:
        if kind is int:
            number = float(text)
            if not number.is_integer():
                raise ValueError(text)
            return int(number)
        return float(text)

    def valid(v: Any) -> bool:
        return (lo < v if open_lo else lo <= v) and (v < hi if open_hi else v <= hi)

    text = f"{'(' if open_lo else '['}{lo}, {hi}{')' if open_hi else ']'}".replace("inf]", "inf)")
    return _Spec(parse, valid, text.replace("[-inf", "(-inf"))


def _choice(*options: str) -> _Spec:
    return _Spec(lambda text: text, lambda v: v in options, str(list(options)))


def _comma_list(*options: str) -> _Spec:
    def parse(text: str) -> list[str]:
        return [item.strip() for item in text.split(",") if item.strip()]

    return _Spec(
        parse, lambda v: bool(v) and (not options or all(i in options for i in v)), str(list(options))
    )


def _int_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(item) for item in text.strip().strip("()[]").split(",") if item.strip())


def _nested_int_lists(text: str) -> list[list[int]]:
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(group, list) for group in value):
        raise ValueError(text)
    return [[int(index) for index in group] for group in value]


_FLAG = _Spec(str.lower, lambda v: v in ("true", "false"), "['true', 'false']")
_UNIT = _interval(float, 0, 1)
_UNIT_OPEN_LO = _interval(float, 0, 1, open_lo=True)
_NONNEG_F = _interval(float, 0)
_NONNEG_I = _interval(int, 0)
_BIT = _interval(int, 0, 1)
_ANY_LIST = _Spec(lambda text: [m.strip() for m in text.split(",") if m.strip()], bool, "metric names")

SPECS: dict[str, _Spec] = {
    "num_round": _interval(int, 1),
    "num_class": _interval(int, 2),
    "objective": _choice(*OBJECTIVES),
    "eval_metric": _ANY_LIST,
    "early_stopping_rounds": _interval(int, 1),
    "booster": _choice("gbtree", "gblinear", "dart"),
    "eta": _UNIT,
    "gamma": _NONNEG_F,
    "max_depth": _NONNEG_I,
    "min_child_weight": _NONNEG_F,
    "max_delta_step": _NONNEG_F,
    "subsample": _UNIT_OPEN_LO,
    "colsample_bytree": _UNIT_OPEN_LO,
    "colsample_bylevel": _UNIT_OPEN_LO,
    "colsample_bynode": _UNIT_OPEN_LO,
    "lambda": _NONNEG_F,
    "alpha": _NONNEG_F,
    "tree_method": _choice("auto", "exact", "approx", "hist", "gpu_hist"),
    "sketch_eps": _interval(float, 0, 1, open_lo=True, open_hi=True),
    "scale_pos_weight": _interval(float, 0, open_lo=True),
    "updater": _comma_list(*TREE_UPDATERS, *LINEAR_UPDATERS),
    "dsplit": _choice("row", "col"),
    "refresh_leaf": _BIT,
    "process_type": _choice("default", "update"),
    "grow_policy": _choice("depthwise", "lossguide"),
    "max_leaves": _NONNEG_I,
    "max_bin": _NONNEG_I,
    "predictor": _choice("auto", "cpu_predictor", "gpu_predictor"),
    "monotone_constraints": _Spec(_int_tuple, lambda v: all(c in (-1, 0, 1) for c in v), "[-1, 0, 1]"),
    "interaction_constraints": _Spec(
        _nested_int_lists, lambda v: all(i >= 0 for g in v for i in g), "[0, inf)"
    ),
    "sample_type": _choice("uniform", "weighted"),
    "normalize_type": _choice("tree", "forest"),
    "rate_drop": _UNIT,
    "skip_drop": _UNIT,
    "one_drop": _BIT,
    "lambda_bias": _UNIT,
    "tweedie_variance_power": _interval(float, 1, 2, open_lo=True, open_hi=True),
    "base_score": _NONNEG_F,
    "csv_weights": _BIT,
    "seed": _interval(int, -(2**31), 2**31 - 1, open_lo=True, open_hi=True),
    "nthread": _interval(int, 1),
    "verbosity": _interval(int, 0, 3),
    "num_parallel_tree": _interval(int, 1),
    "save_model_on_termination": _FLAG,
    "aft_loss_distribution": _choice("normal", "logistic", "extreme"),
    "aft_loss_distribution_scale": _NONNEG_F,
    "deterministic_histogram": _FLAG,
    "single_precision_histogram": _FLAG,
    "sampling_method": _choice("uniform", "gradient_based"),
    "prob_buffer_row": _interval(float, 1, open_lo=True),
    "use_dask_gpu_training": _FLAG,
    "_kfold": _interval(int, 2),
    "_num_cv_round": _interval(int, 1),
    "_tuning_objective_metric": _Spec(lambda t: t, lambda v: True, "metric names"),
}


def _decode(value: Any) -> str:
    """SDK estimators JSON-encode string values (``"\\"reg:logistic\\""``); undo that."""
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        return str(decoded)
    return text


def _canonical_names(raw: Mapping[str, Any]) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for name, value in raw.items():
        if name.startswith("sagemaker_"):
            continue  # platform/SDK keys (log level, job name, region, ...) the container tolerates
        canonical = ALIASES.get(name, name)
        if canonical not in SPECS:
            raise UserError(f"Extraneous hyperparameter found: {name}")
        if canonical in resolved:
            raise UserError(f"Hyperparameter {canonical} is given twice (also as an alias).")
        resolved[canonical] = _decode(value)
    return resolved


def _parse(name: str, text: str) -> Any:
    spec = SPECS[name]
    try:
        value = spec.parse(text)
    except (ValueError, TypeError):
        raise UserError(f"Hyperparameter {name}: could not parse value") from None
    if not spec.valid(value):
        raise UserError(f"Hyperparameter {name}: value {text} not in range {spec.range_text}")
    return value


def validate(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed, validated hyperparameters keyed by canonical name; raises :class:`UserError`."""
    values = {name: _parse(name, text) for name, text in _canonical_names(raw).items()}
    if "num_round" not in values:
        raise UserError("Missing required hyperparameter: num_round")
    rules.check(values)
    return values


def problem(raw: Mapping[str, Any]) -> str | None:
    """Why ``validate`` would refuse ``raw``, or None: for checks made before any job runs."""
    try:
        validate(raw)
    except UserError as exc:
        return str(exc)
    return None


__all__ = ["ALIASES", "OBJECTIVES", "SPECS", "problem", "validate"]
