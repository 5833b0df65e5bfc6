"""``trainplane spot-test`` and ``trainplane jobs cost`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sim_helpers import sim_request
from test_spot_lifecycle import STEPPING

from jobs_helpers import script_job
from trainplane.cli.main import main
from trainplane.executors.simulated import Simulation

NOT_CHECKPOINTING = """
    import time
    for step in range(1, 7):
        time.sleep(0.3)
        print(f"trainplane-step: {step}", flush=True)
"""


def spec(tmp_path: Path, name: str, code: str) -> Path:
    request = script_job(name, tmp_path, code, CheckpointConfig={"S3Uri": "s3://spot-test/ck"})
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(request))
    return path


@pytest.mark.slow
def test_spot_test_reports_a_job_that_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = ["--home", str(tmp_path / "home")]
    code = main(
        [
            *home,
            "spot-test",
            str(spec(tmp_path, "stepper", STEPPING)),
            "--interruptions",
            "2",
            "--notice-seconds",
            "2",
            "--output",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0, json.dumps(report["spot"]["attempts"])
    assert report["schedule"] == {"type": "schedule", "at_steps": [2, 4]}
    assert report["resumed"] is True
    attempts = json.dumps(report["spot"]["attempts"])
    assert all(r is not None and r <= 1 for r in report["redone_steps"]), attempts
    assert [a["status"] for a in report["spot"]["attempts"]] == ["interrupted", "interrupted", "succeeded"]
    assert report["spot"]["cost"]["BillableTimeInSeconds"] < report["spot"]["cost"]["TrainingTimeInSeconds"]
    assert main([*home, "jobs", "cost", "--output", "json"]) == 0
    costs = json.loads(capsys.readouterr().out)
    assert {j["TrainingJobName"] for j in costs["Jobs"]} == {"stepper-uninterrupted", "stepper-spot"}


@pytest.mark.slow
def test_spot_test_fails_a_job_that_restarts_from_scratch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = json.dumps({"type": "schedule", "at_steps": [3]})
    code = main(
        [
            "--home",
            str(tmp_path / "home"),
            "spot-test",
            str(spec(tmp_path, "amnesiac", NOT_CHECKPOINTING)),
            "--schedule",
            schedule,
            "--notice-seconds",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "resumed from checkpoints: NO" in out


def test_jobs_cost_shows_training_billable_savings_and_dollars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    sim = Simulation(home, {"TRAINPLANE_SPOT_NOTICE_SECONDS": "60"}, tick_seconds=60)
    try:
        source = {"type": "schedule", "at_seconds": [900]}
        sim.run(sim_request("priced", tmp_path, source, work=1800, instance_type="ml.m5.xlarge"))
    finally:
        sim.close()
    assert main(["--home", str(home), "jobs", "cost", "priced", "--output", "json"]) == 0
    row = json.loads(capsys.readouterr().out)["Jobs"][0]
    assert row["Spot"] is True and row["Attempts"] == 2
    assert row["SavingsPercent"] == pytest.approx(70.0, abs=0.5)
    assert row["CostUsd"] == pytest.approx(row["OnDemandCostUsd"] * 0.3, rel=0.01)
    assert main(["--home", str(home), "jobs", "cost"]) == 0
    table = capsys.readouterr().out
    assert "priced" in table and "TOTAL" in table and "$" in table
    assert main(["--home", str(home), "jobs", "describe", "priced"]) == 0
    assert "Cost: $" in capsys.readouterr().out
