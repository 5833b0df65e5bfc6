"""SageMaker Python SDK v3 (sagemaker==3.27.*) HyperparameterTuner against trainplane, unmodified code."""

from __future__ import annotations

import pytest
from client_rig import Program

pytestmark = pytest.mark.slow


def test_hyperparameter_tuner_tunes_a_model_trainer_and_reads_the_best_job(
    sdk_programs: dict[str, Program],
) -> None:
    result, _ = sdk_programs["sdk3_tuner"].finish()
    assert result["status"] == "Completed"
    assert result["completed"] == 3 and result["succeeded"] == 3
    children = result["frame_jobs"]
    assert len(children) == 3 and all(name.startswith("v3-tuner-") for name in children)
    # best_training_job() is the top of ListTrainingJobsForHyperParameterTuningJob by objective
    assert sorted(result["ranked"]) == children and result["best"] in children
    assert result["best_objective"] == result["ranked_objectives"][0]  # ties may order differently
    assert result["ranked_objectives"] == sorted(result["ranked_objectives"], reverse=True)
    assert result["best_status"] == "Completed"
    assert result["best_model_data"].endswith(f"/{result['best']}/output/model.tar.gz")
    tuned = result["best_hyperparameters"]
    assert tuned["num_round"] == "5" and tuned["_tuning_objective_metric"] == "train:auc"
    assert 0.05 <= float(tuned["eta"]) <= 0.5 and tuned["max_depth"] in {"1", "2", "3", "4"}
    assert result["static_hyperparameters"] == {
        "objective": "binary:logistic",
        "num_round": "5",
        "eval_metric": "auc",
        "_tuning_objective_metric": "train:auc",
    }
    assert result["instance_type"] == "ml.m5.large"
    assert "v3-tuner" in result["listed"]  # HyperParameterTuningJob.get_all()
    assert {"eta", "max_depth", "FinalObjectiveValue"} <= set(result["frame_columns"])
    assert sorted(result["frame_objectives"]) == sorted(result["ranked_objectives"])
    assert all(0.5 < value <= 1.0 for value in result["frame_objectives"])
