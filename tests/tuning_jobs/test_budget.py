"""trainplane extension: a dollar budget for a tuning job (tag ``trainplane:max-cost-usd``).

Children here are ml.m5.large ($0.115/h) with MaxRuntimeInSeconds 600: before any child has finished,
one is expected to cost at most 0.115 x 600 / 3600 = $0.0192.
"""

from __future__ import annotations

from typing import Any

import pytest
from tuning_helpers import tuning_request
from tuning_rig import Rig

from trainplane.control.tuning_cost import child_cost
from trainplane.store.records import Attempt

PRICE_PER_SECOND = 0.115 / 3600


def capped(name: str, rig: Rig, cap: str, **config: Any) -> dict[str, Any]:
    request = tuning_request(name, rig.tmp_path, **config)
    request["Tags"] = [{"Key": "trainplane:max-cost-usd", "Value": cap}]
    return request


def ran_for(rig: Rig, name: str, seconds: float) -> None:
    now = rig.clock.now()
    rig.store.add_attempt(
        Attempt(name, 1, "succeeded", now - seconds, now - seconds, now, 0, None, "local", [])
    )


def spent(rig: Rig, name: str) -> float:
    return sum(
        child_cost(rig.service, c["TrainingJobName"], rig.clock.now()) or 0 for c in rig.children(name)
    )


def reason(rig: Rig, name: str) -> dict[str, str]:
    description = rig.describe(name)
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    return dict(description["TrainplaneCompletionReason"])


def test_no_second_child_is_launched_when_the_first_leaves_no_room_for_another(rig: Rig) -> None:
    # The reported case: children of $0.000096 each (3 s) under a $0.00015 cap. A parallel second
    # child, launched before any cost was known, took the spend to $0.000192.
    rig.create(capped("small", rig, "0.00015", max_jobs=4, parallel=2))
    rig.tick()
    (first,) = rig.active()  # one child at its worst case ($0.0192) is already over the cap
    ran_for(rig, first.name, 3)
    rig.report(first.name, 0.5)
    rig.finish(first.name)
    rig.tick()
    assert len(rig.children("small")) == 1
    assert spent(rig, "small") == pytest.approx(3 * PRICE_PER_SECOND)
    assert spent(rig, "small") <= 0.00015
    assert reason(rig, "small") == {
        "Code": "trainplane:MaxCostUSD",
        "Message": "The dollar budget set by the trainplane:max-cost-usd tag has no room for another "
        "training job at its expected cost (the dearest finished job's, or before any finished, its "
        "instances' price for MaxRuntimeInSeconds), so no more were launched.",
    }


@pytest.mark.parametrize(("cap", "launched"), [("0.03", 1), ("0.05", 2)])
def test_children_launch_in_parallel_as_far_as_their_worst_case_fits(
    rig: Rig, cap: str, launched: int
) -> None:
    rig.create(capped("par", rig, cap, max_jobs=4, parallel=2))
    rig.tick()
    assert len(rig.active()) == launched


def test_a_spent_budget_stops_running_children_and_launching(rig: Rig) -> None:
    rig.create(capped("budget", rig, "0.01", max_jobs=10, parallel=2))
    rig.tick()
    (first,) = rig.active()
    ran_for(rig, first.name, 10)  # $0.00032: two more are expected to fit
    rig.report(first.name, 0.5)
    rig.finish(first.name)
    rig.tick()
    second, third = rig.active()
    ran_for(rig, second.name, 300)  # $0.0096 each: they cost more than expected, and pass the cap
    ran_for(rig, third.name, 300)
    rig.tick()
    stopping = rig.store.list_training_jobs(statuses=["Stopping"], sort_by="Name", ascending=True)
    assert [j.name for j in stopping] == [second.name, third.name]
    rig.settle_stops()
    rig.tick()
    assert sum(rig.describe("budget")["TrainingJobStatusCounters"].values()) == 3
    assert reason(rig, "budget") == {
        "Code": "trainplane:MaxCostUSD",
        "Message": "The dollar budget set by the trainplane:max-cost-usd tag is spent: the training jobs "
        "still running were stopped (what they cost until they stopped is spent past it), and no more "
        "were launched.",
    }


def test_a_spent_budget_stops_children_still_running_after_launching_ended_for_another_reason(
    rig: Rig,
) -> None:
    criteria = {"TargetObjectiveMetricValue": 0.5}
    rig.create(capped("target", rig, "0.01", max_jobs=10, parallel=2, TuningJobCompletionCriteria=criteria))
    rig.tick()
    (first,) = rig.active()
    ran_for(rig, first.name, 10)
    rig.report(first.name, 2.0)
    rig.finish(first.name)
    rig.tick()
    second, third = rig.active()
    ran_for(rig, second.name, 10)
    rig.report(second.name, 0.4)
    rig.finish(second.name)
    rig.tick()  # the target is reached: launching ends, the third child runs on
    assert rig.service.get("target").completion["reason"] == "TargetObjectiveMetricValue"
    assert [j.name for j in rig.active()] == [third.name]
    ran_for(rig, third.name, 400)  # $0.0128: the spend passes the cap
    rig.tick()
    assert [j.name for j in rig.store.list_training_jobs(statuses=["Stopping"])] == [third.name]
    rig.settle_stops()
    rig.tick()
    assert reason(rig, "target")["Code"] == "TargetObjectiveMetricValue"


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
