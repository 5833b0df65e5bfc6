"""The spot state machine through the real reconciler, on a fake clock with the simulated executor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_helpers import sim_request, statuses

from trainplane.errors import ValidationError
from trainplane.executors.simulated import Simulation

ATTEMPT = ["Starting", "Downloading", "Training"]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulation]:
    simulation = Simulation(tmp_path / "home", {"TRAINPLANE_SPOT_NOTICE_SECONDS": "120"}, tick_seconds=30)
    yield simulation
    simulation.close()


def test_time_schedule_interrupts_twice_and_the_job_resumes_from_its_checkpoints(
    sim: Simulation, tmp_path: Path
) -> None:
    source = {"type": "schedule", "at_seconds": [1000, 2500], "outage_seconds": 300}
    description = sim.run(sim_request("two-notices", tmp_path, source))
    assert description["TrainingJobStatus"] == "Completed"
    expected = [*ATTEMPT, "Interrupted", *ATTEMPT, "Interrupted", *ATTEMPT, "Uploading", "Completed"]
    assert statuses(description) == expected
    attempts = sim.store.attempts("two-notices")
    assert [a.status for a in attempts] == ["interrupted", "interrupted", "succeeded"]
    # The outage keeps capacity away for 300 s after each attempt ended.
    assert attempts[1].launch_time - attempts[0].end_time >= 300
    # Resumed from checkpoints: far less than three times the 3600 s of work was spent training.
    assert description["TrainingTimeInSeconds"] < 3600 + 2 * (600 + 60 + 120) + 3 * 60 + 60
    # ml.m5 is billed at the cpu spot fraction (0.30).
    ratio = description["BillableTimeInSeconds"] / description["TrainingTimeInSeconds"]
    assert ratio == pytest.approx(0.30, abs=0.01)


def test_notice_time_checkpoints_redo_no_work(sim: Simulation, tmp_path: Path) -> None:
    source = {"type": "schedule", "at_seconds": [1000, 2500]}
    periodic = sim.run(sim_request("periodic", tmp_path, source, checkpoint_every=1200))
    on_notice = sim.run(
        sim_request("on-notice", tmp_path, source, checkpoint_every=1200, save_on_notice=True)
    )
    assert periodic["TrainingJobStatus"] == on_notice["TrainingJobStatus"] == "Completed"
    assert on_notice["TrainingTimeInSeconds"] < periodic["TrainingTimeInSeconds"]


def test_capacity_that_never_comes_ends_in_max_wait_time_exceeded(sim: Simulation, tmp_path: Path) -> None:
    trace = tmp_path / "never.json"
    trace.write_text(json.dumps({"metadata": {"gap_seconds": 600}, "data": [0, 0, 0]}))
    source = {"type": "trace", "path": str(trace)}
    description = sim.run(sim_request("no-capacity", tmp_path, source, max_wait=3600, max_runtime=3600))
    assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == (
        "Stopped",
        "MaxWaitTimeExceeded",
    )
    assert statuses(description) == ["Starting", "Stopping", "MaxWaitTimeExceeded"]
    assert "TrainingTimeInSeconds" not in description
    assert sim.store.attempts("no-capacity") == []


def test_max_wait_spent_while_running_stops_the_attempt(sim: Simulation, tmp_path: Path) -> None:
    source = {"type": "schedule", "at_seconds": [1800], "outage_seconds": 1800}
    request = sim_request("wait-running", tmp_path, source, max_wait=4000, max_runtime=3600)
    description = sim.run(request)
    assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == (
        "Stopped",
        "MaxWaitTimeExceeded",
    )
    assert statuses(description)[-5:] == [
        "Downloading",
        "Training",
        "Stopping",
        "Uploading",
        "MaxWaitTimeExceeded",
    ]


def test_on_demand_fallback_finishes_the_job_and_bills_it_on_demand(sim: Simulation, tmp_path: Path) -> None:
    source = {"type": "schedule", "at_seconds": [1000], "outage_seconds": 10**6}
    environment = {"TRAINPLANE_SPOT_ON_DEMAND_FALLBACK": "true"}
    description = sim.run(sim_request("fallback", tmp_path, source, environment=environment))
    assert description["TrainingJobStatus"] == "Completed"
    attempts = sim.store.attempts("fallback")
    assert [(a.status, a.spot) for a in attempts] == [("interrupted", True), ("succeeded", False)]
    messages = [t["StatusMessage"] for t in description["SecondaryStatusTransitions"]]
    assert any("on-demand" in m for m in messages)
    # First attempt at spot price (0.3), the rest at full price.
    assert description["BillableTimeInSeconds"] > 0.7 * description["TrainingTimeInSeconds"]


def test_a_stop_while_waiting_for_capacity_stops_the_job(sim: Simulation, tmp_path: Path) -> None:
    source = {"type": "schedule", "at_seconds": [600], "outage_seconds": 10**5}
    sim.service.create_training_job(sim_request("stop-waiting", tmp_path, source, max_wait=200000))
    for _ in range(60):
        sim.reconciler.tick()
        sim.reconciler.settle()
        sim.clock.advance(30)
    assert sim.store.get_training_job("stop-waiting").secondary_status == "Interrupted"
    sim.service.stop_training_job({"TrainingJobName": "stop-waiting"})
    sim.reconciler.tick()
    description = sim.service.describe_training_job({"TrainingJobName": "stop-waiting"})
    assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert "TrainingEndTime" in description
    # It trained before the interruption: it ends with a Stopped job's artifacts, as one stopped running.
    model = Path(description["ModelArtifacts"]["S3ModelArtifacts"].removeprefix("file://"))
    assert model.is_file() and (model.parent / "output.tar.gz").is_file()


def test_a_malformed_per_job_source_fails_the_job_with_a_client_error(
    sim: Simulation, tmp_path: Path
) -> None:
    request = sim_request("bad-source", tmp_path, {"type": "schedule"})
    description = sim.run(request)
    assert description["TrainingJobStatus"] == "Failed"
    assert description["FailureReason"].startswith("ClientError: Invalid TRAINPLANE_SPOT_INTERRUPTIONS")


def test_spot_request_rules_are_enforced_at_create(sim: Simulation, tmp_path: Path) -> None:
    request = sim_request("rules", tmp_path, "none")
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": 3600}
    with pytest.raises(ValidationError, match="MaxWaitTimeInSeconds"):
        sim.service.create_training_job(request)
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 3599}
    with pytest.raises(ValidationError, match="MaxWaitTimeInSeconds"):
        sim.service.create_training_job(request)
    request["EnableManagedSpotTraining"] = False
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    with pytest.raises(ValidationError, match="only supported when EnableManagedSpotTraining"):
        sim.service.create_training_job(request)


def test_a_job_created_again_under_a_deleted_name_gets_its_own_interruptions(
    sim: Simulation, tmp_path: Path
) -> None:
    first = sim.run(sim_request("again", tmp_path, {"type": "none"}))
    assert statuses(first) == [*ATTEMPT, "Uploading", "Completed"]
    sim.service.delete_training_job({"TrainingJobName": "again"})
    interrupted = {"type": "schedule", "at_seconds": [1000], "outage_seconds": 300}
    request = sim_request("again", tmp_path, interrupted)
    request["CheckpointConfig"]["S3Uri"] = "s3://checkpoints/again-2"  # not the first job's finished work
    second = sim.run(request)  # the same control plane
    assert second["TrainingJobStatus"] == "Completed"
    assert statuses(second) == [*ATTEMPT, "Interrupted", *ATTEMPT, "Uploading", "Completed"]


def test_describe_and_the_cost_report_count_the_same_seconds(sim: Simulation, tmp_path: Path) -> None:
    from trainplane.service.describe import job_cost

    for work in (100.3, 100.7):  # fractional seconds: one rounding rule for both
        name = f"seconds-{int(work * 10)}"
        description = sim.run(sim_request(name, tmp_path, {"type": "none"}, work=work, checkpoint_every=50))
        job = sim.store.get_training_job(name)
        assert job is not None
        report = job_cost(job, sim.store, sim.clock.now())
        assert description["TrainingTimeInSeconds"] == report.training_seconds
        assert description["BillableTimeInSeconds"] == report.billable_seconds
