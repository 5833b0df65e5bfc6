"""Linear Learner hyperparameters: defaults, auto rules, validation messages."""

from __future__ import annotations

import pytest

from trainplane.algorithms.linear_learner.errors import ClientError
from trainplane.algorithms.linear_learner.hyperparameters import parse


def test_defaults_and_auto_rules_per_predictor_type() -> None:
    hp = parse({"predictor_type": "binary_classifier"})
    assert (hp.optimizer, hp.loss, hp.num_models, hp.learning_rate) == ("adam", "logistic", 32, 0.01)
    assert hp.normalize_data and not hp.normalize_label and hp.num_outputs == 1
    reg = parse({"predictor_type": "regressor", "optimizer": "sgd"})
    assert (
        reg.loss == "squared_loss" and reg.normalize_label and reg.unbias_label and reg.learning_rate == 0.1
    )
    multi = parse({"predictor_type": "multiclass_classifier", "num_classes": "4"})
    assert multi.loss == "softmax_loss" and multi.num_outputs == 4


def test_sdk_quoted_values_and_hidden_keys_are_accepted() -> None:
    hp = parse(
        {
            "predictor_type": '"binary_classifier"',
            "mini_batch_size": "200",
            "_kvstore": "dist_sync",
            "_num_gpus": "auto",
            "sagemaker_region": "us-east-1",
            "positive_example_weight_mult": "balanced",
            "binary_classifier_model_selection_criteria": "f1",
        }
    )
    assert hp.mini_batch_size == 200 and hp.positive_example_weight_mult == "balanced"
    assert hp.binary_classifier_model_selection_criteria == "f_beta"


def test_tuning_forces_a_single_model() -> None:
    hp = parse(
        {"predictor_type": "regressor", "num_models": "8", "_tuning_objective_metric": "validation:mse"}
    )
    assert hp.num_models == 1


def test_unknown_hyperparameter_fails_like_other_builtins() -> None:
    with pytest.raises(ClientError, match="Extraneous hyperparameter found: learningrate"):
        parse({"predictor_type": "regressor", "learningrate": "0.1"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("learning_rate", "-1", "learning_rate must be 'auto' or a number > 0"),
        ("optimizer", "adagrad", "optimizer must be one of auto, sgd, adam, rmsprop"),
        ("quantile", "1.5", "quantile must be a number > 0 and < 1"),
        ("mini_batch_size", "1.5", "mini_batch_size must be an integer > 0"),
        ("epochs", "many", "epochs must be an integer > 0"),
        ("beta_1", "1", "beta_1 must be 'auto' or a number >= 0 and < 1"),
        ("use_bias", "yes", "use_bias must be one of true, false"),
        ("positive_example_weight_mult", "0", "positive_example_weight_mult must be a number > 0"),
        ("huber_delta", "0", "huber_delta must be a number > 0"),  # Huber with delta 0 is 0 everywhere
    ],
)
def test_invalid_values_name_the_hyperparameter(name: str, value: str, message: str) -> None:
    with pytest.raises(ClientError, match=message):
        parse({"predictor_type": "regressor", name: value})


def test_cross_field_rules() -> None:
    with pytest.raises(ClientError, match="Missing required hyperparameter: predictor_type"):
        parse({})
    with pytest.raises(ClientError, match="num_classes"):
        parse({"predictor_type": "multiclass_classifier"})
    with pytest.raises(ClientError, match="loss 'hinge_loss' is not valid for predictor_type regressor"):
        parse({"predictor_type": "regressor", "loss": "hinge_loss"})
    with pytest.raises(ClientError, match="num_classes must be an integer >= 3"):
        parse({"predictor_type": "multiclass_classifier", "num_classes": "2"})
