"""A job stored with a metric regex the API now refuses (from before the rule) runs without that metric.

Before, building its metric scanner raised inside the reconciler's launch: the job stayed InProgress with
nobody supervising it, held its capacity, and every job queued behind it waited forever.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs_helpers import SKLEARN_IMAGE, script_job
from trainplane import TrainPlane
from trainplane.service import training_rules

pytestmark = pytest.mark.slow


def test_a_stored_job_with_an_unusable_regex_completes_and_does_not_block_the_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = 'print("loss=0.25", flush=True)'
    spec = {
        "TrainingImage": SKLEARN_IMAGE,
        "TrainingInputMode": "File",
        "MetricDefinitions": [
            {"Name": "broken", "Regex": "loss=(("},
            {"Name": "loss", "Regex": r"loss=(\S+)"},
        ],
    }
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home")}
    with TrainPlane(environ=environ) as tp:
        with monkeypatch.context() as patch:  # stored as an older trainplane would have stored it
            patch.setattr(training_rules, "check_metric_definitions", lambda *_: None)
            tp.create_training_job(**script_job("old", tmp_path, code, AlgorithmSpecification=spec))
        tp.create_training_job(**script_job("behind", tmp_path, code))
        old = tp.wait_for_training_job("old", timeout=60)
        behind = tp.wait_for_training_job("behind", timeout=60)
    assert old["TrainingJobStatus"] == "Completed", old.get("FailureReason")
    assert [(m["MetricName"], m["Value"]) for m in old["FinalMetricDataList"]] == [("loss", 0.25)]
    assert behind["TrainingJobStatus"] == "Completed", behind.get("FailureReason")
