"""trainplane extension: a dollar budget for a tuning job (tag ``trainplane:max-cost-usd``)."""

from __future__ import annotations

from tuning_helpers import tuning_request
from tuning_rig import Rig

from trainplane.store.records import Attempt


def ran_for(rig: Rig, name: str, seconds: float) -> None:
    now = rig.clock.now()
    rig.store.add_attempt(
        Attempt(name, 1, "succeeded", now - seconds, now - seconds, now, 0, None, "local", [])
    )


def test_a_spent_budget_stops_running_children_and_launching(rig: Rig) -> None:
    request = tuning_request("budget", rig.tmp_path, max_jobs=10, parallel=2)
    request["Tags"] = [{"Key": "trainplane:max-cost-usd", "Value": "0.01"}]  # ml.m5.large: ~5 minutes
    rig.create(request)
    rig.tick()
    first, second = rig.active()
    ran_for(rig, first.name, 600)  # 10 minutes of ml.m5.large: over the budget
    rig.report(first.name, 0.5)
    rig.finish(first.name)
    rig.tick()
    assert [j.name for j in rig.store.list_training_jobs(statuses=["Stopping"])] == [second.name]
    rig.settle_stops()
    rig.tick()
    description = rig.describe("budget")
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert sum(description["TrainingJobStatusCounters"].values()) == 2
    reason = description["TrainplaneCompletionReason"]
    assert reason["Code"] == "trainplane:MaxCostUSD"
    assert "dollar budget set by the trainplane:max-cost-usd tag is spent" in reason["Message"]


def test_without_the_tag_cost_does_not_limit_a_tuning_job(rig: Rig) -> None:
    rig.create(tuning_request("free", rig.tmp_path, max_jobs=4, parallel=2))
    rig.tick()
    for job in rig.active():
        ran_for(rig, job.name, 3600)
    description = rig.run("free", lambda hps: [0.5])
    assert description["TrainingJobStatusCounters"]["Completed"] == 4
    assert description["TrainplaneCompletionReason"]["Code"] == "MaxNumberOfTrainingJobs"
    assert (
        description["TrainplaneCompletionReason"]["Message"]
        == "All 4 training jobs ran (MaxNumberOfTrainingJobs)."
    )
