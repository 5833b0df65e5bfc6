"""Real tuning jobs: children run as processes; the control plane is SIGKILLed mid-tuning and resumed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tuning_helpers import tuning_request

from trainplane import TrainPlane
from trainplane.cli.main import main

pytestmark = pytest.mark.slow


def children(home: Path, name: str) -> list[dict[str, Any]]:
    with TrainPlane(home=home, run_jobs=False) as tp:
        try:
            page = tp.list_training_jobs_for_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=name, MaxResults=100
            )
        except Exception:  # not created yet
            return []
        return list(page["TrainingJobSummaries"])


def wait_for(predicate: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def test_a_killed_control_plane_resumes_tuning_without_losing_or_duplicating_children(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    spec = tmp_path / "tune.json"
    spec.write_text(
        json.dumps(tuning_request("resume", tmp_path, max_jobs=4, parallel=2, static={"epochs": "2"}))
    )
    command = [sys.executable, "-m", "trainplane.cli.main", "--home", str(home), "tune", str(spec)]
    control = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(children(home, "resume")) >= 2)
    control.send_signal(signal.SIGKILL)
    control.wait()
    with TrainPlane(home=home) as tp:
        description = tp.wait_for_tuning_job("resume", timeout=300)
        jobs = [j for j in tp.iter_all_training_jobs() if j["TrainingJobName"].startswith("resume-")]
    assert description["HyperParameterTuningJobStatus"] == "Completed", description.get("FailureReason")
    assert description["TrainingJobStatusCounters"]["Completed"] == 4
    assert description["ObjectiveStatusCounters"]["Succeeded"] == 4
    names = sorted(j["TrainingJobName"] for j in jobs)
    assert [int(n.split("-")[1]) for n in names] == [1, 2, 3, 4], "a child was lost or duplicated"
    assert all(j["TrainingJobStatus"] == "Completed" for j in jobs)
    best = description["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]
    x = float(description["BestTrainingJob"]["TunedHyperParameters"]["x"])
    assert best["Value"] == pytest.approx((x - 0.3) ** 2 + 1 / 2, abs=1e-5)

    assert main(["--home", str(home), "tuning", "jobs", "resume", "--output", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["TrainingJobSummaries"]
    assert sorted(item["TrainingJobName"] for item in listed) == names
    assert main(["--home", str(home), "tuning", "list", "--output", "json"]) == 0
    summaries = json.loads(capsys.readouterr().out)["HyperParameterTuningJobSummaries"]
    assert [s["HyperParameterTuningJobStatus"] for s in summaries] == ["Completed"]


def test_tune_shows_the_leaderboard_and_exits_zero_when_completed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "tune.yaml"
    spec.write_text(
        json.dumps(tuning_request("cli", tmp_path, max_jobs=1, parallel=1, static={"epochs": "1"}))
    )
    assert main(["--home", str(tmp_path / "home"), "tune", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "cli-001-" in out and "Completed cli." in out
    # Piped, the leaderboard's last row and the summary after it are lines of their own.
    assert any(line.startswith("Best: cli-001-") for line in out.splitlines()), out
    assert "All 1 training jobs ran (MaxNumberOfTrainingJobs)." in out
    assert main(["--home", str(tmp_path / "home"), "tuning", "describe", "cli"]) == 0
    assert "Ended by: All 1 training jobs ran (MaxNumberOfTrainingJobs)." in capsys.readouterr().out
