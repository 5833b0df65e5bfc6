"""Hyperparameter validation, settings, metric definitions and the container-defined metrics."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xgboost as xgb

from trainplane.algorithms.xgboost import UserError, metric_definitions, metric_direction
from trainplane.algorithms.xgboost.custom_metrics import custom_metric
from trainplane.algorithms.xgboost.hyperparameters import validate
from trainplane.algorithms.xgboost.settings import build_settings


def _error(raw: dict[str, str]) -> str:
    with pytest.raises(UserError) as caught:
        validate(raw)
    return str(caught.value)


def test_num_round_is_required() -> None:
    assert _error({"eta": "0.1"}) == "Missing required hyperparameter: num_round"


def test_unknown_name_is_extraneous() -> None:
    assert _error({"num_round": "5", "etaa": "0.1"}) == "Extraneous hyperparameter found: etaa"


@pytest.mark.parametrize(("name", "value"), [("num_round", "ten"), ("eta", "fast"), ("max_depth", "2.5")])
def test_unparsable_values(name: str, value: str) -> None:
    raw = {"num_round": "5", name: value}
    assert _error(raw) == f"Hyperparameter {name}: could not parse value"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("num_round", "0"),
        ("eta", "1.5"),
        ("subsample", "0"),
        ("tweedie_variance_power", "2"),
        ("objective", "reg:nonsense"),
        ("booster", "gbforest"),
        ("verbosity", "4"),
    ],
)
def test_out_of_range_values(name: str, value: str) -> None:
    assert _error({"num_round": "5", name: value}).startswith(
        f"Hyperparameter {name}: value {value} not in range"
    )


def test_values_are_typed_aliases_resolved_and_sdk_quoting_undone() -> None:
    values = validate(
        {
            "num_round": "10",
            "learning_rate": "0.2",
            "reg_alpha": "1",
            "objective": '"binary:logistic"',
            "max_depth": "4",
            "save_model_on_termination": "True",
            "sagemaker_region": '"us-east-1"',
        }
    )
    assert values == {
        "num_round": 10,
        "eta": 0.2,
        "alpha": 1.0,
        "objective": "binary:logistic",
        "max_depth": 4,
        "save_model_on_termination": "true",
    }


def test_alias_and_canonical_name_together_are_rejected() -> None:
    assert "given twice" in _error({"num_round": "5", "eta": "0.1", "learning_rate": "0.2"})


def test_num_class_rules() -> None:
    assert "num_class" in _error({"num_round": "5", "objective": "multi:softmax"})
    assert "num_class" in _error({"num_round": "5", "num_class": "3"})
    assert _error({"num_round": "5", "objective": "multi:softprob", "num_class": "1"}).startswith(
        "Hyperparameter num_class: value 1 not in range"
    )
    assert validate({"num_round": "5", "objective": "multi:softprob", "num_class": "3"})["num_class"] == 3


def test_eval_metric_rules() -> None:
    assert "auc" in _error({"num_round": "5", "eval_metric": "auc"})  # default objective is regression
    assert "aft-nloglik" in _error({"num_round": "5", "eval_metric": "aft-nloglik"})
    assert "'error', 'ndcg', 'map'" in _error({"num_round": "5", "eval_metric": "rmse@3"})
    assert "expects float input" in _error({"num_round": "5", "eval_metric": "error@high"})
    assert "not supported yet" in _error({"num_round": "5", "eval_metric": "<function f at 0x1>"})
    assert "not in range" in _error({"num_round": "5", "eval_metric": "rmse,bogus"})
    values = validate({"num_round": "5", "objective": "binary:logistic", "eval_metric": "auc, error@0.7,f1"})
    assert values["eval_metric"] == ["auc", "error@0.7", "f1"]


def test_constraint_and_updater_rules() -> None:
    assert "monotone_constraints" in _error({"num_round": "5", "monotone_constraints": "(1,-1)"})
    assert "interaction_constraints" in _error({"num_round": "5", "interaction_constraints": "[[0,1]]"})
    assert "Linear updater" in _error({"num_round": "5", "booster": "gblinear", "updater": "prune"})
    assert "one tree grow plugin" in _error({"num_round": "5", "updater": "grow_colmaker,grow_histmaker"})
    assert validate({"num_round": "5", "tree_method": "hist", "monotone_constraints": "(1,0,-1)"})[
        "monotone_constraints"
    ] == (1, 0, -1)


def test_kfold_is_rejected_with_a_clear_message() -> None:
    assert "not supported" in _error({"num_round": "5", "_kfold": "3"})


def test_tuning_objective_metric_is_added_and_drives_early_stopping() -> None:
    raw = {
        "num_round": "5",
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "_tuning_objective_metric": "validation:f1",
        "early_stopping_rounds": "3",
    }
    settings = build_settings(validate(raw), num_cpus=2)
    assert settings.params["eval_metric"] == ["logloss"]
    assert settings.custom_metrics == ["f1"]
    assert (settings.early_stopping_metric, settings.maximize) == ("f1", True)
    assert "_tuning_objective_metric" not in settings.params
    assert _error({"num_round": "5", "_tuning_objective_metric": "validation:bogus"}).startswith(
        "Hyperparameter _tuning_objective_metric"
    )


def test_settings_defaults_and_compatibility_mapping() -> None:
    settings = build_settings(
        validate(
            {"num_round": "5", "tree_method": "gpu_hist", "objective": "reg:linear", "predictor": "auto"}
        ),
        3,
    )
    assert settings.params == {
        "tree_method": "hist",
        "objective": "reg:squarederror",
        "nthread": 3,
        "seed": 0,
    }
    assert settings.early_stopping_metric is None


def test_metric_definitions_cover_both_splits_and_every_metric() -> None:
    definitions = metric_definitions()
    assert len(definitions) == 2 * 33
    by_name = {d["Name"]: re.compile(d["Regex"]) for d in definitions}
    line = "[12]#011train-rmse:1.19876#011validation-rmse:2.31553"
    assert float(by_name["validation:rmse"].match(line)[1]) == 2.31553  # type: ignore[index]
    assert float(by_name["train:rmse"].match(line)[1]) == 1.19876  # type: ignore[index]
    assert by_name["validation:mae"].match(line) is None


def test_metric_direction() -> None:
    assert metric_direction("validation:auc") == "Maximize"
    assert metric_direction("f1_macro") == "Maximize"
    assert metric_direction("train:rmse") == "Minimize"
    assert metric_direction("error@0.3") == "Minimize"
    with pytest.raises(ValueError):
        metric_direction("validation:bogus")


def test_custom_metrics_use_the_objective_to_pick_classes() -> None:
    dmatrix = xgb.DMatrix(np.zeros((4, 1)), label=np.array([0, 1, 1, 0]))
    binary = custom_metric(["accuracy", "f1_binary", "recall"], "binary:logistic")
    assert binary(np.array([0.1, 0.9, 0.4, 0.2]), dmatrix) == [
        ("accuracy", 0.75),
        ("f1_binary", 2 / 3),
        ("recall", 0.5),
    ]
    softprob = custom_metric(["accuracy"], "multi:softprob")
    assert softprob(np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]]), dmatrix) == [
        ("accuracy", 1.0)
    ]
    regression = custom_metric(["mse", "r2"], "reg:squarederror")
    assert regression(np.array([0.0, 1.0, 1.0, 0.0]), dmatrix) == [("mse", 0.0), ("r2", 1.0)]
