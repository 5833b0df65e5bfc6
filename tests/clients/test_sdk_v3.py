"""SageMaker Python SDK v3 (sagemaker==3.27.*) against trainplane, unmodified user code."""

from __future__ import annotations

import pytest
from client_rig import Program

pytestmark = pytest.mark.slow


def test_model_trainer_trains_builtin_xgboost_with_logs(sdk_programs: dict[str, Program]) -> None:
    result, output = sdk_programs["sdk3_builtin"].finish()
    assert result["status"] == "Completed"
    assert "train-auc:" in output
    assert str(result["model_data"]).endswith("/output/model.tar.gz")
    assert result["job"] in result["all_jobs"]  # TrainingJob.get_all() pages through ListTrainingJobs


def test_model_trainer_trains_source_code_with_logs(sdk_programs: dict[str, Program]) -> None:
    result, output = sdk_programs["sdk3_train"].finish()
    assert result["status"] == "Completed"
    assert "train-accuracy:" in output
    assert result["job"] in result["all_jobs"]
