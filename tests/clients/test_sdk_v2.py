"""SageMaker Python SDK v2 (sagemaker==2.257.*) against trainplane, unmodified user code."""

from __future__ import annotations

import pytest
from client_rig import Program

pytestmark = pytest.mark.slow


def test_builtin_xgboost_estimator_fits_with_logs_and_attaches(sdk_programs: dict[str, Program]) -> None:
    result, output = sdk_programs["sdk2_xgboost"].finish()
    assert result["image"] == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert result["status"] == "Completed"
    assert "train-auc:" in output  # the job's own log lines, streamed through the logs API
    assert "Completed - Training job completed" in output
    assert str(result["model_data"]).endswith("/v2-xgboost/output/model.tar.gz")
    assert result["attached_job"] == "v2-xgboost"
    assert result["attached_image"] == result["image"]
    assert result["attached_hyperparameters"] == {
        "objective": "binary:logistic",
        "num_round": "10",
        "eval_metric": "auc",
    }
    # TrainingJobAnalytics reads the job's metric from CloudWatch (GetMetricStatistics, 1-minute averages)
    assert result["analytics_columns"] == ["metric_name", "timestamp", "value"]
    assert result["analytics_metrics"] == ["train:auc"]
    assert result["analytics_values"] and all(0.5 < v <= 1.0 for v in result["analytics_values"])


def test_sklearn_script_mode_with_source_dir_fits(sdk_programs: dict[str, Program]) -> None:
    result, output = sdk_programs["sdk2_sklearn"].finish()
    assert result["status"] == "Completed"
    assert "train-accuracy:" in output  # printed by tests/clients/programs/source/train.py
    assert result["program"] == '"train.py"'
    assert str(result["submit_dir"]).endswith('/v2-sklearn/source/sourcedir.tar.gz"')


def test_stop_ends_a_running_job_as_stopped(sdk_programs: dict[str, Program]) -> None:
    result, _ = sdk_programs["sdk2_stop"].finish()
    assert result["status_before"] == "InProgress"
    assert result["status"] == "Stopped"
    assert result["secondary"] == "Stopped"
