"""CreateHyperParameterTuningJob validation (reference §7.8): one test per rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tuning_helpers import tuning_request
from tuning_rig import Rig

from trainplane.errors import (
    ApiError,
    ResourceInUse,
    ResourceLimitExceeded,
    ResourceNotFound,
    ValidationError,
)


def rejects(rig: Rig, request: dict[str, Any], error: type[ApiError], text: str) -> None:
    with pytest.raises(error) as caught:
        rig.create(request)
    assert text in caught.value.message


def config(request: dict[str, Any]) -> dict[str, Any]:
    return request["HyperParameterTuningJobConfig"]


def multi(rig: Rig, count: int = 2) -> dict[str, Any]:
    request = tuning_request("multi", rig.tmp_path)
    single = request.pop("TrainingJobDefinition")
    cfg = config(request)
    request["TrainingJobDefinitions"] = [
        {
            **copy.deepcopy(single),
            "DefinitionName": f"def-{i}",
            "TuningObjective": cfg["HyperParameterTuningJobObjective"],
            "HyperParameterRanges": cfg["ParameterRanges"],
        }
        for i in range(count)
    ]
    del cfg["HyperParameterTuningJobObjective"], cfg["ParameterRanges"]
    return request


def test_a_valid_request_is_accepted_with_an_arn(rig: Rig) -> None:
    arn = rig.create(tuning_request("Valid-Job", rig.tmp_path))["HyperParameterTuningJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/valid-job"


def test_a_name_longer_than_32_characters_is_rejected(rig: Rig) -> None:
    rejects(rig, tuning_request("a" * 33, rig.tmp_path), ValidationError, "hyperParameterTuningJobName")


def test_a_name_with_an_underscore_is_rejected(rig: Rig) -> None:
    rejects(rig, tuning_request("bad_name", rig.tmp_path), ValidationError, "regular expression pattern")


def test_names_are_unique_regardless_of_case(rig: Rig) -> None:
    rig.create(tuning_request("Twice", rig.tmp_path))
    rejects(rig, tuning_request("tWICE", rig.tmp_path), ResourceInUse, "with the name, tWICE, already exists")


def test_both_definition_forms_together_are_rejected(rig: Rig) -> None:
    request = multi(rig)
    request["TrainingJobDefinition"] = tuning_request("x", rig.tmp_path)["TrainingJobDefinition"]
    rejects(rig, request, ValidationError, "exactly one of TrainingJobDefinition or TrainingJobDefinitions")


def test_neither_definition_form_is_rejected(rig: Rig) -> None:
    request = tuning_request("none", rig.tmp_path)
    del request["TrainingJobDefinition"]
    rejects(rig, request, ValidationError, "exactly one of TrainingJobDefinition")


def test_the_single_form_needs_the_objective_in_the_config(rig: Rig) -> None:
    request = tuning_request("noobj", rig.tmp_path)
    del config(request)["HyperParameterTuningJobObjective"]
    rejects(rig, request, ValidationError, "HyperParameterTuningJobObjective is required")


def test_the_multi_form_rejects_a_top_level_objective(rig: Rig) -> None:
    request = multi(rig)
    config(request)["HyperParameterTuningJobObjective"] = {"Type": "Minimize", "MetricName": "loss"}
    rejects(rig, request, ValidationError, "in each definition")


def test_each_multi_definition_needs_its_tuning_objective(rig: Rig) -> None:
    request = multi(rig)
    del request["TrainingJobDefinitions"][1]["TuningObjective"]
    rejects(rig, request, ValidationError, "must specify TuningObjective")


def test_multi_definitions_need_unique_names(rig: Rig) -> None:
    request = multi(rig)
    request["TrainingJobDefinitions"][1]["DefinitionName"] = "def-0"
    rejects(rig, request, ValidationError, "DefinitionName must be unique")


def test_multi_definitions_cannot_use_early_stopping(rig: Rig) -> None:
    request = multi(rig)
    config(request)["TrainingJobEarlyStoppingType"] = "Auto"
    rejects(rig, request, ValidationError, "Early stopping is not supported with multiple")


def test_the_objective_must_be_a_defined_metric(rig: Rig) -> None:
    request = tuning_request("nometric", rig.tmp_path)
    config(request)["HyperParameterTuningJobObjective"]["MetricName"] = "accuracy"
    rejects(rig, request, ValidationError, "The objective metric 'accuracy' is not defined")


def test_a_built_in_algorithm_metric_is_a_valid_objective(rig: Rig) -> None:
    request = tuning_request("builtin", rig.tmp_path)
    definition = request["TrainingJobDefinition"]
    definition["AlgorithmSpecification"] = {
        "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "TrainingInputMode": "File",
    }
    definition["StaticHyperParameters"] = {"num_round": "5"}
    config(request)["HyperParameterTuningJobObjective"]["MetricName"] = "validation:rmse"
    config(request)["ParameterRanges"] = {
        "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5"}]
    }
    assert rig.create(request)["HyperParameterTuningJobArn"].endswith("/builtin")
    echoed = rig.describe("builtin")["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"]
    assert echoed[-1]["Name"] == "ObjectiveMetric" and len(echoed) > 40


def test_a_range_cannot_also_be_static(rig: Rig) -> None:
    rejects(
        rig,
        tuning_request("both", rig.tmp_path, static={"x": "1"}),
        ValidationError,
        "both static and tunable",
    )


def test_more_than_30_tunable_hyperparameters_are_rejected(rig: Rig) -> None:
    ranges = {
        "ContinuousParameterRanges": [{"Name": f"c{i}", "MinValue": "0", "MaxValue": "1"} for i in range(16)],
        "IntegerParameterRanges": [{"Name": f"i{i}", "MinValue": "0", "MaxValue": "9"} for i in range(15)],
    }
    rejects(
        rig, tuning_request("many", rig.tmp_path, ranges=ranges), ValidationError, "exceeds the maximum of 30"
    )


def test_min_above_max_is_rejected(rig: Rig) -> None:
    ranges = {"IntegerParameterRanges": [{"Name": "n", "MinValue": "5", "MaxValue": "2"}]}
    rejects(rig, tuning_request("minmax", rig.tmp_path, ranges=ranges), ValidationError, "less than or equal")


def test_logarithmic_scaling_needs_a_positive_minimum(rig: Rig) -> None:
    ranges = {
        "ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}
        ]
    }
    rejects(rig, tuning_request("log", rig.tmp_path, ranges=ranges), ValidationError, "greater than 0")


def test_reverse_logarithmic_scaling_is_not_for_integers(rig: Rig) -> None:
    ranges = {
        "IntegerParameterRanges": [
            {"Name": "n", "MinValue": "0", "MaxValue": "0", "ScalingType": "ReverseLogarithmic"}
        ]
    }
    rejects(
        rig,
        tuning_request("revint", rig.tmp_path, ranges=ranges),
        ValidationError,
        "not supported for integer",
    )


def test_reverse_logarithmic_scaling_needs_values_below_one(rig: Rig) -> None:
    ranges = {
        "ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "0.5", "MaxValue": "1", "ScalingType": "ReverseLogarithmic"}
        ]
    }
    rejects(
        rig,
        tuning_request("rev", rig.tmp_path, ranges=ranges),
        ValidationError,
        "0 <= MinValue < MaxValue < 1",
    )


def test_a_categorical_range_with_more_than_30_values_is_rejected(rig: Rig) -> None:
    ranges = {"CategoricalParameterRanges": [{"Name": "c", "Values": [str(i) for i in range(31)]}]}
    rejects(
        rig, tuning_request("cats", rig.tmp_path, ranges=ranges), ValidationError, "less than or equal to 30"
    )


def test_grid_accepts_only_categorical_ranges(rig: Rig) -> None:
    request = tuning_request("grid", rig.tmp_path, strategy="Grid", max_jobs=None)
    rejects(rig, request, ValidationError, "supports only CategoricalParameterRanges")


def test_grid_max_jobs_must_equal_the_number_of_combinations(rig: Rig) -> None:
    ranges = {"CategoricalParameterRanges": [{"Name": "c", "Values": ["a", "b", "c"]}]}
    request = tuning_request("grid", rig.tmp_path, strategy="Grid", max_jobs=4, ranges=ranges)
    rejects(rig, request, ValidationError, "number of combinations of the categorical ranges (3)")


def test_max_jobs_may_be_omitted_only_for_grid(rig: Rig) -> None:
    rejects(
        rig,
        tuning_request("nomax", rig.tmp_path, max_jobs=None),
        ValidationError,
        "MaxNumberOfTrainingJobs is required",
    )


def test_hyperband_requires_early_stopping_off(rig: Rig) -> None:
    request = tuning_request(
        "hb", rig.tmp_path, strategy="Hyperband", static={"epochs": "9"}, TrainingJobEarlyStoppingType="Auto"
    )
    rejects(rig, request, ValidationError, "must be Off with the Hyperband strategy")


def test_hyperband_needs_a_max_resource_given_or_inferable(rig: Rig) -> None:
    rejects(rig, tuning_request("hb", rig.tmp_path, strategy="Hyperband"), ValidationError, "MaxResource")


def test_strategy_config_is_only_for_hyperband(rig: Rig) -> None:
    request = tuning_request(
        "sc", rig.tmp_path, StrategyConfig={"HyperbandStrategyConfig": {"MaxResource": 3}}
    )
    rejects(rig, request, ValidationError, "only with the Hyperband strategy")


def test_max_parallel_cannot_exceed_max_jobs(rig: Rig) -> None:
    rejects(
        rig,
        tuning_request("par", rig.tmp_path, max_jobs=2, parallel=3),
        ValidationError,
        "MaxParallelTrainingJobs (3)",
    )


def test_max_parallel_above_the_quota_is_a_resource_limit(rig: Rig) -> None:
    rejects(
        rig,
        tuning_request("quota", rig.tmp_path, max_jobs=20, parallel=11),
        ResourceLimitExceeded,
        "parallel",
    )


def test_more_than_750_bayesian_jobs_is_a_resource_limit(rig: Rig) -> None:
    request = tuning_request("big", rig.tmp_path, strategy="Bayesian", max_jobs=751)
    rejects(rig, request, ResourceLimitExceeded, "750")


def test_random_may_run_up_to_10000_jobs(rig: Rig) -> None:
    assert rig.create(tuning_request("big", rig.tmp_path, max_jobs=10_000))
    rejects(rig, tuning_request("bigger", rig.tmp_path, max_jobs=10_001), ResourceLimitExceeded, "10000")


def test_max_wait_time_needs_managed_spot_training(rig: Rig) -> None:
    request = tuning_request("wait", rig.tmp_path)
    request["TrainingJobDefinition"]["StoppingCondition"]["MaxWaitTimeInSeconds"] = 900
    rejects(rig, request, ValidationError, "EnableManagedSpotTraining")


def test_max_runtime_below_120_seconds_is_rejected(rig: Rig) -> None:
    request = tuning_request("rt", rig.tmp_path)
    config(request)["ResourceLimits"]["MaxRuntimeInSeconds"] = 60
    rejects(rig, request, ValidationError, "maxRuntimeInSeconds")


def test_more_than_48_environment_variables_across_definitions_are_rejected(rig: Rig) -> None:
    request = multi(rig)
    for i, definition in enumerate(request["TrainingJobDefinitions"]):
        definition["Environment"] = {f"V{i}_{j}": "1" for j in range(25)}
    rejects(rig, request, ValidationError, "exceeds the maximum of 48")


def test_static_plus_tunable_plus_objective_key_cannot_exceed_100(rig: Rig) -> None:
    static = {f"s{i}": "1" for i in range(97)}  # + 2 script-mode keys + x + _tuning_objective_metric = 101
    rejects(
        rig, tuning_request("hps", rig.tmp_path, static=static), ValidationError, "exceeds the maximum of 100"
    )


def test_resource_config_and_tuning_resource_config_are_exclusive(rig: Rig) -> None:
    request = tuning_request("res", rig.tmp_path)
    request["TrainingJobDefinition"]["HyperParameterTuningResourceConfig"] = {
        "InstanceType": "ml.m5.large",
        "InstanceCount": 1,
    }
    rejects(
        rig, request, ValidationError, "exactly one of ResourceConfig or HyperParameterTuningResourceConfig"
    )


def test_a_tuning_resource_config_without_a_count_is_rejected_in_its_own_words(rig: Rig) -> None:
    request = tuning_request("nocount", rig.tmp_path)
    definition = request["TrainingJobDefinition"]
    definition["HyperParameterTuningResourceConfig"] = {"InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}
    del definition["ResourceConfig"]
    rejects(
        rig,
        request,
        ValidationError,
        "HyperParameterTuningResourceConfig must specify InstanceType and InstanceCount, or InstanceConfigs.",
    )


def test_tuning_resource_config_is_echoed_as_both_shapes(rig: Rig) -> None:
    request = tuning_request("v2", rig.tmp_path)
    definition = request["TrainingJobDefinition"]
    definition["HyperParameterTuningResourceConfig"] = definition.pop("ResourceConfig")
    rig.create(request)
    echoed = rig.describe("v2")["TrainingJobDefinition"]
    assert echoed["ResourceConfig"]["InstanceType"] == "ml.m5.large"
    assert echoed["HyperParameterTuningResourceConfig"]["InstanceType"] == "ml.m5.large"


def test_an_instance_type_outside_the_catalog_is_rejected_at_creation(rig: Rig) -> None:
    request = tuning_request("inst", rig.tmp_path)
    request["TrainingJobDefinition"]["ResourceConfig"]["InstanceType"] = "ml.zz9.huge"
    rejects(rig, request, ValidationError, "")


@pytest.mark.parametrize(
    "operation",
    [
        "describe_hyper_parameter_tuning_job",
        "stop_hyper_parameter_tuning_job",
        "list_training_jobs_for_hyper_parameter_tuning_job",
        "delete_hyper_parameter_tuning_job",
    ],
)
def test_an_unknown_tuning_job_is_resource_not_found(rig: Rig, operation: str) -> None:
    with pytest.raises(ResourceNotFound):
        getattr(rig.service, operation)({"HyperParameterTuningJobName": "ghost"})


def test_a_metric_regex_without_a_capture_group_is_rejected_in_its_definition(rig: Rig) -> None:
    request = multi(rig)
    spec = request["TrainingJobDefinitions"][1]["AlgorithmSpecification"]
    spec["MetricDefinitions"] = [*spec["MetricDefinitions"], {"Name": "other", "Regex": "other="}]
    rejects(rig, request, ValidationError, "Invalid MetricDefinitions in training job definition 'def-1'.")


XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
LINEAR_LEARNER_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


def builtin_request(
    rig: Rig, name: str, image: str, static: dict[str, str], ranges: dict[str, Any], metric: str
) -> dict[str, Any]:
    request = tuning_request(name, rig.tmp_path, ranges=ranges)
    definition = request["TrainingJobDefinition"]
    definition["AlgorithmSpecification"] = {"TrainingImage": image, "TrainingInputMode": "File"}
    definition["StaticHyperParameters"] = static
    config(request)["HyperParameterTuningJobObjective"]["MetricName"] = metric
    return request


def test_a_built_in_range_reaching_values_the_algorithm_refuses_is_rejected(rig: Rig) -> None:
    # eta must lie in [0, 1]: a range up to 1.5 would fail every child that draws eta > 1.
    for low, high, shown in (("0.5", "1.5", "eta=1.5"), ("1.5", "2", "eta=1.75")):  # an end; the middle
        ranges = {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": low, "MaxValue": high}]}
        request = builtin_request(rig, "eta", XGBOOST_IMAGE, {"num_round": "5"}, ranges, "validation:rmse")
        rejects(rig, request, ValidationError, "The range of hyperparameter 'eta' reaches values that the")
        value = shown.split("=")[1]
        rejects(
            rig, request, ValidationError, f"({shown}): Hyperparameter eta: value {value} not in range [0, 1]"
        )


def test_built_in_static_hyperparameters_are_checked_by_the_algorithm(rig: Rig) -> None:
    ranges = {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5"}]}
    request = builtin_request(rig, "noround", XGBOOST_IMAGE, {"max_depth": "3"}, ranges, "validation:rmse")
    rejects(rig, request, ValidationError, "Missing required hyperparameter: num_round")
    request = builtin_request(
        rig, "extra", XGBOOST_IMAGE, {"num_round": "5", "colour": "red"}, ranges, "validation:rmse"
    )
    rejects(rig, request, ValidationError, "Extraneous hyperparameter found: colour")


def test_each_categorical_value_of_a_built_in_range_is_checked_with_the_static_ones(rig: Rig) -> None:
    # squared_loss is a loss of regressors only: one of the two values would fail its children.
    ranges = {
        "CategoricalParameterRanges": [{"Name": "loss", "Values": ["logistic", "squared_loss"]}],
        "ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.001", "MaxValue": "0.1"}],
    }
    static = {"predictor_type": "binary_classifier", "feature_dim": "4"}
    request = builtin_request(rig, "loss", LINEAR_LEARNER_IMAGE, static, ranges, "validation:objective_loss")
    rejects(rig, request, ValidationError, "(loss=squared_loss): Failed to validate input hyperparameters")
    ranges["CategoricalParameterRanges"][0]["Values"] = ["logistic", "hinge_loss"]
    assert rig.create(request)["HyperParameterTuningJobArn"].endswith("/loss")


def test_a_script_on_a_built_in_image_keeps_its_own_hyperparameters(rig: Rig) -> None:
    request = tuning_request("script", rig.tmp_path)  # x and the script-mode keys mean nothing to XGBoost
    request["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = XGBOOST_IMAGE
    assert rig.create(request)["HyperParameterTuningJobArn"].endswith("/script")


def prioritized(rig: Rig, name: str, *instance_types: str) -> dict[str, Any]:
    request = tuning_request(name, rig.tmp_path)
    definition = request["TrainingJobDefinition"]
    del definition["ResourceConfig"]
    definition["HyperParameterTuningResourceConfig"] = {
        "AllocationStrategy": "Prioritized",
        "InstanceConfigs": [
            {"InstanceType": t, "InstanceCount": 1, "VolumeSizeInGB": 1} for t in instance_types
        ],
    }
    return request


def test_prioritized_instance_configs_fall_back_to_the_first_that_fits(rig: Rig) -> None:
    # ml.p3.2xlarge needs a GPU and 61 GiB: not this machine's. Children take the next choice.
    rig.create(prioritized(rig, "prio", "ml.p3.2xlarge", "ml.m5.large", "ml.m5.xlarge"))
    rig.tick()
    children = rig.active()
    assert len(children) == 2
    assert {c.request["ResourceConfig"]["InstanceType"] for c in children} == {"ml.m5.large"}


def test_prioritized_instance_configs_none_of_which_fits_are_refused_at_creation(rig: Rig) -> None:
    request = prioritized(rig, "nofit", "ml.p3.2xlarge", "ml.p3.8xlarge")
    rejects(rig, request, ResourceLimitExceeded, "1 x ml.p3.2xlarge needs 8 vCPUs")


@pytest.mark.parametrize("instance_type", ["ml.t3.medium", "ml.m6i.large", "ml.m7i.large", "ml.c7i.large"])
def test_a_spend_cap_on_instance_types_without_a_catalog_price_is_refused(
    rig: Rig, instance_type: str
) -> None:
    request = tuning_request("unpriced", rig.tmp_path)
    request["TrainingJobDefinition"]["ResourceConfig"]["InstanceType"] = instance_type
    rig.create({**request, "HyperParameterTuningJobName": "no-cap"})  # the type itself runs
    request["Tags"] = [{"Key": "trainplane:max-cost-usd", "Value": "1"}]
    rejects(rig, request, ValidationError, f"has no price for {instance_type}.")


def test_a_spend_cap_needs_a_price_for_every_prioritized_instance_config(rig: Rig) -> None:
    request = prioritized(rig, "prio", "ml.m5.large", "ml.m7i.large")
    request["Tags"] = [{"Key": "trainplane:max-cost-usd", "Value": "1"}]
    rejects(rig, request, ValidationError, "has no price for ml.m7i.large.")


def test_add_tags_refuses_a_spend_cap_on_a_tuning_job_without_prices(rig: Rig) -> None:
    request = tuning_request("unpriced", rig.tmp_path)
    request["TrainingJobDefinition"]["ResourceConfig"]["InstanceType"] = "ml.t3.medium"
    arn = rig.create(request)["HyperParameterTuningJobArn"]
    with pytest.raises(ValidationError, match=r"has no price for ml\.t3\.medium"):
        rig.platform.training.add_tags(
            {"ResourceArn": arn, "Tags": [{"Key": "trainplane:max-cost-usd", "Value": "1"}]}
        )


def test_a_discrete_space_needs_as_many_combinations_as_jobs(rig: Rig) -> None:
    ranges = {
        "IntegerParameterRanges": [{"Name": "x", "MinValue": "1", "MaxValue": "3"}],
        "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b"]}],
    }
    rejects(
        rig,
        tuning_request("few", rig.tmp_path, ranges=ranges, max_jobs=7),
        ValidationError,
        "The total number of hyperparameter combinations for the provided ranges [6.0] must be equal or "
        "greater than the value of MaxNumberOfJobs, [7].",
    )
    assert rig.create(tuning_request("enough", rig.tmp_path, ranges=ranges, max_jobs=6))
    no_ranges = tuning_request("none", rig.tmp_path, ranges={}, max_jobs=2, parallel=1)
    rejects(rig, no_ranges, ValidationError, "combinations for the provided ranges [1.0]")


def test_describe_fills_in_the_defaults_the_sdk_reads(rig: Rig) -> None:
    rig.create(tuning_request("defaults", rig.tmp_path))  # no early stopping type, only continuous ranges
    config_echo = rig.describe("defaults")["HyperParameterTuningJobConfig"]
    assert config_echo["TrainingJobEarlyStoppingType"] == "Off"
    assert config_echo["ParameterRanges"]["IntegerParameterRanges"] == []
    assert config_echo["ParameterRanges"]["CategoricalParameterRanges"] == []
    assert [r["Name"] for r in config_echo["ParameterRanges"]["ContinuousParameterRanges"]] == ["x"]
    rig.create(multi(rig))
    (first, _) = rig.describe("multi")["TrainingJobDefinitions"]
    assert first["HyperParameterRanges"]["IntegerParameterRanges"] == []


@pytest.mark.parametrize("value", ["abc", "5 USD", "nan", "inf", "0", "-1"])
def test_a_spend_cap_that_is_not_a_positive_amount_is_refused(rig: Rig, value: str) -> None:
    request = tuning_request("cap", rig.tmp_path)
    request["Tags"] = [{"Key": "trainplane:max-cost-usd", "Value": value}]
    rejects(
        rig,
        request,
        ValidationError,
        "The tag trainplane:max-cost-usd must be a dollar amount greater than 0",
    )


@pytest.mark.parametrize("value", ["abc", "0", "-1", "inf"])
def test_add_tags_refuses_a_spend_cap_that_is_not_a_positive_amount(rig: Rig, value: str) -> None:
    arn = rig.create(tuning_request("cap", rig.tmp_path))["HyperParameterTuningJobArn"]
    training = rig.platform.training
    with pytest.raises(ValidationError) as caught:
        training.add_tags({"ResourceArn": arn, "Tags": [{"Key": "trainplane:max-cost-usd", "Value": value}]})
    assert (
        caught.value.message == f"The tag trainplane:max-cost-usd must be a dollar amount greater than 0, "
        f"got {value!r}."
    )
    assert training.list_tags({"ResourceArn": arn})["Tags"] == []
    training.add_tags({"ResourceArn": arn, "Tags": [{"Key": "trainplane:max-cost-usd", "Value": "2.5"}]})
    assert training.list_tags({"ResourceArn": arn})["Tags"] == [
        {"Key": "trainplane:max-cost-usd", "Value": "2.5"}
    ]


def test_the_cost_aware_tag_is_true_or_false_and_for_bayesian_only(rig: Rig) -> None:
    request = tuning_request("aware", rig.tmp_path, strategy="Bayesian")
    request["Tags"] = [{"Key": "trainplane:cost-aware-acquisition", "Value": "maybe"}]
    rejects(rig, request, ValidationError, "must be true or false, got 'maybe'")
    request = tuning_request("aware", rig.tmp_path, strategy="Random")
    request["Tags"] = [{"Key": "trainplane:cost-aware-acquisition", "Value": "true"}]
    rejects(rig, request, ValidationError, "applies to the Bayesian strategy only, not Random")
