"""SageMaker Python SDK v2 (sagemaker==2.257.*) HyperparameterTuner against trainplane, unmodified code."""

from __future__ import annotations

import pytest
from client_rig import Program

pytestmark = pytest.mark.slow
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def test_hyperparameter_tuner_fits_attaches_and_analyses(sdk_programs: dict[str, Program]) -> None:
    result, _ = sdk_programs["sdk2_tuner"].finish()
    assert result["status"] == "Completed" and result["completed"] == 3
    children = result["frame_jobs"]
    assert len(children) == 3 and all(name.startswith("v2-tuner-") for name in children)
    # best_training_job() names a child with the highest objective in the dataframe (ties possible)
    assert result["best"] in children
    assert result["frame_best_objective"] == max(result["frame_objectives"])
    assert result["best_model_data"].endswith(f"/{result['best']}/output/model.tar.gz")
    # HyperparameterTuner.attach rebuilt the tuner and its Estimator from Describe
    assert result["attached_objective"] == "train:auc"
    assert result["attached_strategy"] == "Bayesian"
    assert (result["attached_max_jobs"], result["attached_max_parallel_jobs"]) == (3, 2)
    assert result["attached_ranges"] == [
        ["MaxValue", "0.5"],
        ["MinValue", "0.05"],
        ["Name", "eta"],
        ["ScalingType", "Auto"],
    ]
    assert result["attached_image"] == IMAGE
    assert result["attached_instance_type"] == "ml.m5.large"  # read from the echoed ResourceConfig
    assert result["attached_hyperparameters"] == {  # _tuning_objective_metric deleted by attach
        "objective": "binary:logistic",
        "num_round": "5",
        "eval_metric": "auc",
    }
    # ...and so does a tuning job boto3 created without the keys the SDK itself always sends
    assert result["plain_early_stopping"] == "Off"
    assert result["plain_ranges"] == {
        "CategoricalParameterRanges": [],
        "ContinuousParameterRanges": ["eta"],
        "IntegerParameterRanges": [],
    }
    # analytics().dataframe(): one row per child, the tuned values and the final objective
    columns = {"eta", "max_depth", "FinalObjectiveValue", "TrainingElapsedTimeSeconds"}
    assert columns <= set(result["frame_columns"])
    assert result["frame_statuses"] == ["Completed"]
    assert all(0.5 < value <= 1.0 for value in result["frame_objectives"])
    assert all(value in (1.0, 2.0, 3.0, 4.0) for value in result["frame_max_depth"])
