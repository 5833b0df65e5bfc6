"""Early stopping (Auto median rule, Hyperband), completion criteria, runtime limit, stop and delete."""

from __future__ import annotations

from typing import Any

import pytest
from tuning_helpers import tuning_request
from tuning_rig import Rig

from trainplane.errors import ResourceInUse, ValidationError


def finish_with(rig: Rig, name: str, *values: float) -> None:
    rig.report(name, *values)
    rig.finish(name)


def assert_ended_by(description: dict[str, Any], code: str, words: str) -> None:
    """The trainplane extension TrainplaneCompletionReason names why the job stopped launching."""
    reason = description["TrainplaneCompletionReason"]
    assert reason["Code"] == code
    assert words in reason["Message"]


def objective_of(rig: Rig, tuning: str, child: str) -> dict[str, object]:
    return next(c for c in rig.children(tuning) if c["TrainingJobName"] == child)


@pytest.mark.parametrize("early", ["Auto", "Off"])
def test_auto_early_stopping_stops_a_child_worse_than_the_median(rig: Rig, early: str) -> None:
    rig.create(tuning_request("es", rig.tmp_path, max_jobs=4, parallel=4, TrainingJobEarlyStoppingType=early))
    rig.tick()
    a, b, c, laggard = rig.active()
    for good in (a, b, c):
        finish_with(rig, good.name, 0.2, 0.1)
    rig.tick()
    rig.report(laggard.name, 5.0)
    rig.tick()
    status = rig.store.get_training_job(laggard.name).status  # type: ignore[union-attr]
    if early == "Off":
        assert status == "InProgress"
        return
    assert status == "Stopping"
    rig.settle_stops()
    description = rig.run("es", lambda hps: [0.3])
    assert description["TrainingJobStatusCounters"]["Stopped"] == 1
    stopped = objective_of(rig, "es", laggard.name)
    assert stopped["ObjectiveStatus"] == "Succeeded"
    assert stopped["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == 5.0  # type: ignore[index]


@pytest.mark.parametrize(("epochs", "stopped"), [("1", False), ("5", True)])
def test_auto_early_stopping_leaves_a_child_in_its_last_epoch_to_end(
    rig: Rig, epochs: str, stopped: bool
) -> None:
    request = tuning_request(
        "last",
        rig.tmp_path,
        max_jobs=4,
        parallel=4,
        static={"epochs": epochs},
        TrainingJobEarlyStoppingType="Auto",
    )
    rig.create(request)
    rig.tick()
    a, b, c, laggard = rig.active()
    for good in (a, b, c):
        finish_with(rig, good.name, 0.2)
    rig.tick()
    rig.report(laggard.name, 5.0)  # as bad as above, but with epochs=1 it is the child's last report
    rig.tick()
    status = rig.store.get_training_job(laggard.name).status  # type: ignore[union-attr]
    assert status == ("Stopping" if stopped else "InProgress")


def _hyperband(rig: Rig, name: str, epochs: str) -> dict[str, Any]:
    return tuning_request(
        name,
        rig.tmp_path,
        strategy="Hyperband",
        max_jobs=2,
        parallel=2,
        static={"epochs": epochs},
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 3}},
    )


def test_hyperband_stops_a_child_at_max_resource_and_keeps_its_last_value(rig: Rig) -> None:
    request = _hyperband(rig, "hb", epochs="10")  # the child would train past MaxResource
    rig.create(request)
    rig.tick()
    child = rig.active()[0]
    rig.report(child.name, 0.9, 0.8)
    rig.tick()
    assert rig.store.get_training_job(child.name).status == "InProgress"  # type: ignore[union-attr]
    rig.report(child.name, 0.7)
    rig.tick()
    assert rig.store.get_training_job(child.name).status == "Stopping"  # type: ignore[union-attr]
    rig.settle_stops()
    rig.tick()
    summary = objective_of(rig, "hb", child.name)
    assert summary["TrainingJobStatus"] == "Stopped"
    assert summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == 0.7  # type: ignore[index]


def test_hyperband_leaves_a_child_that_ends_at_max_resource_to_complete(rig: Rig) -> None:
    rig.create(_hyperband(rig, "hbdone", epochs="3"))
    rig.tick()
    child = rig.active()[0]
    rig.report(child.name, 0.9, 0.8, 0.7)
    rig.tick()
    assert rig.store.get_training_job(child.name).status == "InProgress"  # type: ignore[union-attr]
    rig.finish(child.name)
    rig.tick()
    summary = objective_of(rig, "hbdone", child.name)
    assert summary["TrainingJobStatus"] == "Completed"
    assert summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == 0.7  # type: ignore[index]


def test_reaching_the_target_objective_ends_launching(rig: Rig) -> None:
    criteria = {"TargetObjectiveMetricValue": 0.5}
    rig.create(
        tuning_request("target", rig.tmp_path, max_jobs=10, parallel=2, TuningJobCompletionCriteria=criteria)
    )
    rig.tick()
    first, second = rig.active()
    finish_with(rig, first.name, 0.4)
    rig.tick()
    assert len(rig.active()) == 1, "no child launched after the target was reached"
    finish_with(rig, second.name, 0.9)
    rig.tick()
    description = rig.describe("target")
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert sum(description["TrainingJobStatusCounters"].values()) == 2
    assert_ended_by(description, "TargetObjectiveMetricValue", "reached TargetObjectiveMetricValue (0.5)")


def test_best_objective_not_improving_completes_and_reports_the_count(rig: Rig) -> None:
    criteria = {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}
    rig.create(
        tuning_request("flat", rig.tmp_path, max_jobs=10, parallel=1, TuningJobCompletionCriteria=criteria)
    )
    description = rig.run("flat", lambda hps: [1.0])
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TuningJobCompletionDetails"]["NumberOfTrainingJobsObjectiveNotImproving"] == 3
    assert description["TrainingJobStatusCounters"]["Completed"] == 4
    assert_ended_by(description, "BestObjectiveNotImproving", "did not improve over 3 training jobs")


def test_convergence_detection_completes_with_its_time(rig: Rig) -> None:
    criteria = {"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}}
    rig.create(
        tuning_request("conv", rig.tmp_path, max_jobs=40, parallel=5, TuningJobCompletionCriteria=criteria)
    )
    description = rig.run("conv", lambda hps: [1.0])
    assert "ConvergenceDetectedTime" in description["TuningJobCompletionDetails"]
    assert sum(description["TrainingJobStatusCounters"].values()) < 40
    assert_ended_by(description, "ConvergenceDetected", "converged")


def test_max_runtime_stops_running_children_and_completes(rig: Rig) -> None:
    request = tuning_request("slow", rig.tmp_path, max_jobs=6, parallel=2)
    request["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxRuntimeInSeconds"] = 120
    rig.create(request)
    rig.tick()
    assert len(rig.active()) == 2
    rig.clock.advance(150)
    rig.tick()
    assert len(rig.store.list_training_jobs(statuses=["Stopping"])) == 2
    rig.settle_stops()
    rig.tick()
    description = rig.describe("slow")
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["Stopped"] == 2
    assert description["ConsumedResources"]["RuntimeInSeconds"] >= 150
    assert_ended_by(description, "MaxRuntimeInSeconds", "MaxRuntimeInSeconds (120 s)")


def test_stop_stops_children_launches_nothing_more_and_ends_stopped(rig: Rig) -> None:
    rig.create(tuning_request("halt", rig.tmp_path, max_jobs=6, parallel=2))
    rig.tick()
    rig.service.stop_hyper_parameter_tuning_job({"HyperParameterTuningJobName": "HALT"})
    assert rig.describe("halt")["HyperParameterTuningJobStatus"] == "Stopping"
    assert len(rig.store.list_training_jobs(statuses=["Stopping"])) == 2
    rig.settle_stops()
    rig.tick()
    description = rig.describe("halt")
    assert description["HyperParameterTuningJobStatus"] == "Stopped"
    assert description["TrainingJobStatusCounters"]["Stopped"] == 2
    assert "HyperParameterTuningEndTime" in description
    assert_ended_by(description, "StopHyperParameterTuningJob", "stopped")
    with pytest.raises(ValidationError, match="in status Stopped"):
        rig.service.stop_hyper_parameter_tuning_job({"HyperParameterTuningJobName": "halt"})


def test_delete_needs_a_terminal_job_and_frees_the_name_but_keeps_the_children(rig: Rig) -> None:
    rig.create(tuning_request("gone", rig.tmp_path, max_jobs=2, parallel=2))
    rig.tick()
    with pytest.raises(ResourceInUse):
        rig.service.delete_hyper_parameter_tuning_job({"HyperParameterTuningJobName": "gone"})
    rig.run("gone", lambda hps: [0.5])
    children = [c["TrainingJobName"] for c in rig.children("gone")]
    rig.service.delete_hyper_parameter_tuning_job({"HyperParameterTuningJobName": "GONE"})
    assert all(rig.store.get_training_job(name) is not None for name in children)
    rig.create(tuning_request("gone", rig.tmp_path, max_jobs=2, parallel=2))
    rig.run("gone", lambda hps: [0.5])
    assert not set(children) & {c["TrainingJobName"] for c in rig.children("gone")}
