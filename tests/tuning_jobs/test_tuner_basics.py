"""The tuner's launch loop: children, names, hyperparameters, limits, reproducibility, counters."""

from __future__ import annotations

import re

import pytest
from tuning_helpers import tuning_request
from tuning_rig import Rig, quadratic

from trainplane import ValidationError


def test_a_tuning_job_launches_exactly_max_jobs_children_and_completes(rig: Rig) -> None:
    rig.create(tuning_request("basic", rig.tmp_path, max_jobs=5, parallel=2))
    description = rig.run("basic", quadratic)
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"] == {
        "Completed": 5, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0,
    }  # fmt: skip
    assert description["ObjectiveStatusCounters"] == {"Succeeded": 5, "Pending": 0, "Failed": 0}
    names = [c["TrainingJobName"] for c in rig.children("basic")]
    assert [int(n.split("-")[1]) for n in sorted(names)] == [1, 2, 3, 4, 5]
    assert all(re.fullmatch(r"basic-\d{3}-[0-9a-f]{8}", n) for n in names)


def test_never_more_than_max_parallel_children_run_at_once(rig: Rig) -> None:
    rig.create(tuning_request("parallel", rig.tmp_path, max_jobs=6, parallel=3))
    rig.tick()
    rig.tick()
    assert len(rig.active()) == 3
    first = rig.active()[0]
    rig.report(first.name, 0.5)
    rig.finish(first.name)
    rig.tick()
    assert len(rig.active()) == 3
    assert rig.describe("parallel")["TrainingJobStatusCounters"]["Completed"] == 1


def test_children_carry_static_tuned_and_objective_hyperparameters_and_the_tuning_arn(rig: Rig) -> None:
    arn = rig.create(tuning_request("hps", rig.tmp_path, static={"epochs": "3"}))[
        "HyperParameterTuningJobArn"
    ]
    rig.tick()
    job = rig.active()[0]
    hps = job.request["HyperParameters"]
    assert hps["_tuning_objective_metric"] == "loss"
    assert hps["epochs"] == "3"
    assert 0.0 <= float(hps["x"]) <= 1.0
    assert job.tuning_job_arn == arn
    definitions = job.request["AlgorithmSpecification"]["MetricDefinitions"]
    assert {"Name": "ObjectiveMetric", "Regex": r"loss=([-+0-9.eE]+)"} in definitions
    description = rig.platform.training.describe_training_job({"TrainingJobName": job.name})
    assert description["TuningJobArn"] == arn


def test_the_same_random_seed_proposes_the_same_configurations(rig: Rig) -> None:
    for name in ("seed-a", "seed-b"):
        rig.create(tuning_request(name, rig.tmp_path, max_jobs=4, parallel=2, RandomSeed=7))
        rig.run(name, quadratic)
    configs = {
        name: [c["TunedHyperParameters"] for c in rig.children(name, SortBy="CreationTime")]
        for name in ("seed-a", "seed-b")
    }
    assert configs["seed-a"] == configs["seed-b"]
    assert len({c["x"] for c in configs["seed-a"]}) == 4


def test_best_training_job_is_the_lowest_objective_when_minimizing(rig: Rig) -> None:
    rig.create(tuning_request("best", rig.tmp_path, max_jobs=4, parallel=2))
    description = rig.run("best", quadratic)
    values = {
        c["TrainingJobName"]: c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for c in rig.children("best")
    }
    best = description["BestTrainingJob"]
    assert best["TrainingJobName"] == min(values, key=lambda n: values[n])
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == min(values.values())


def test_best_training_job_is_the_highest_objective_when_maximizing(rig: Rig) -> None:
    rig.create(tuning_request("most", rig.tmp_path, max_jobs=4, parallel=2, objective="Maximize"))
    description = rig.run("most", quadratic)
    values = [c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for c in rig.children("most")]
    assert description["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(
        values
    )


def test_failed_children_are_counted_by_kind_and_their_objective_failed(rig: Rig) -> None:
    rig.create(tuning_request("fails", rig.tmp_path, max_jobs=3, parallel=3))
    rig.tick()
    a, b, c = rig.active()
    rig.finish(a.name, "Failed", "AlgorithmError: boom")
    rig.finish(b.name, "Failed", "InternalServerError: lost host")
    rig.report(c.name, 0.2)
    rig.finish(c.name)
    rig.tick()
    description = rig.describe("fails")
    assert description["TrainingJobStatusCounters"]["NonRetryableError"] == 1
    assert description["TrainingJobStatusCounters"]["RetryableError"] == 1
    assert description["ObjectiveStatusCounters"] == {"Succeeded": 1, "Pending": 0, "Failed": 2}
    assert description["HyperParameterTuningJobStatus"] == "Completed"


def test_a_child_that_never_reports_the_objective_has_objective_status_failed(rig: Rig) -> None:
    rig.create(tuning_request("silent", rig.tmp_path, max_jobs=2, parallel=2))
    rig.tick()
    quiet, loud = rig.active()
    rig.finish(quiet.name)
    rig.report(loud.name, 0.4)
    rig.finish(loud.name)
    rig.tick()
    statuses = {c["TrainingJobName"]: c["ObjectiveStatus"] for c in rig.children("silent")}
    assert statuses == {quiet.name: "Failed", loud.name: "Succeeded"}


def test_a_tuning_job_whose_children_all_fail_fails_with_a_reason(rig: Rig) -> None:
    rig.create(tuning_request("doomed", rig.tmp_path, max_jobs=8, parallel=2))
    for _ in range(10):
        rig.tick()
        for job in rig.active():
            rig.finish(job.name, "Failed", "AlgorithmError: always")
    description = rig.describe("doomed")
    assert description["HyperParameterTuningJobStatus"] == "Failed"
    assert "AlgorithmError: always" in description["FailureReason"]
    launched = sum(description["TrainingJobStatusCounters"].values())
    assert launched < 8, "a tuning job whose every child fails stops launching"


def test_grid_launches_every_combination_once_and_completes(rig: Rig) -> None:
    ranges = {
        "CategoricalParameterRanges": [
            {"Name": "x", "Values": ["0.1", "0.3"]},
            {"Name": "mode", "Values": ["a", "b", "c"]},
        ]
    }
    rig.create(tuning_request("grid", rig.tmp_path, strategy="Grid", max_jobs=None, ranges=ranges))
    description = rig.run("grid", quadratic)
    configs = [tuple(sorted(c["TunedHyperParameters"].items())) for c in rig.children("grid")]
    assert len(configs) == 6 and len(set(configs)) == 6
    assert description["HyperParameterTuningJobStatus"] == "Completed"


def test_bayesian_tuning_runs_to_completion(rig: Rig) -> None:
    rig.create(
        tuning_request("bayes", rig.tmp_path, strategy="Bayesian", max_jobs=8, parallel=2, RandomSeed=1)
    )
    description = rig.run("bayes", quadratic)
    assert description["ObjectiveStatusCounters"]["Succeeded"] == 8


def test_tags_of_a_tuning_job_are_listed_and_added_through_the_tag_operations(rig: Rig) -> None:
    request = tuning_request("tagged", rig.tmp_path)
    request["Tags"] = [{"Key": "team", "Value": "ml"}]
    arn = rig.create(request)["HyperParameterTuningJobArn"]
    training = rig.platform.training
    training.add_tags({"ResourceArn": arn, "Tags": [{"Key": "env", "Value": "dev"}]})
    assert training.list_tags({"ResourceArn": arn})["Tags"] == [
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "ml"},
    ]


def test_a_tuning_job_with_a_reserved_tag_key_is_refused_and_not_stored(rig: Rig) -> None:
    request = tuning_request("reserved", rig.tmp_path)
    request["Tags"] = [{"Key": "aws:team", "Value": "ml"}]
    with pytest.raises(ValidationError, match="System prefix 'aws:' reserved"):
        rig.create(request)
    assert rig.service.tuning_store.get_tuning_job("reserved") is None


def test_the_cost_aware_tag_turns_on_expected_improvement_per_dollar(rig: Rig) -> None:
    from trainplane.service.tuning_definitions import build_strategies

    request = tuning_request("costly", rig.tmp_path, strategy="Bayesian")
    assert [getattr(s, "cost_aware", None) for s in build_strategies(request)] == [False]
    request["Tags"] = [{"Key": "trainplane:cost-aware-acquisition", "Value": "true"}]
    assert [getattr(s, "cost_aware", None) for s in build_strategies(request)] == [True]
    rig.create(request)  # accepted through the API's validation, tag and all


def test_a_child_deleted_before_the_tuner_saw_it_end_counts_as_failed_and_the_job_completes(rig: Rig) -> None:
    rig.create(tuning_request("deleted", rig.tmp_path, max_jobs=3, parallel=1))
    rig.tick()
    (child,) = rig.active()
    rig.report(child.name, 0.5)
    rig.finish(child.name)
    rig.store.delete_training_job(child.name)  # e.g. by another process while this tuner was down
    description = rig.run("deleted", quadratic)
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["Completed"] == 2
    assert description["TrainingJobStatusCounters"]["NonRetryableError"] == 1
    assert len(rig.children("deleted")) == 2  # the deleted one is not listed


def test_children_pages_continue_after_the_last_child_listed(rig: Rig) -> None:
    rig.create(tuning_request("pages", rig.tmp_path, max_jobs=5, parallel=2))
    rig.run("pages", quadratic)
    every = sorted(c["TrainingJobName"] for c in rig.children("pages"))
    request = {"HyperParameterTuningJobName": "pages", "SortBy": "Name", "MaxResults": 2}
    first = rig.service.list_training_jobs_for_hyper_parameter_tuning_job(request)
    assert [c["TrainingJobName"] for c in first["TrainingJobSummaries"]] == every[:2]
    rig.store.delete_training_job(every[0])  # a child of a page already read goes away
    second = rig.service.list_training_jobs_for_hyper_parameter_tuning_job(
        {**request, "NextToken": first["NextToken"]}
    )
    assert [c["TrainingJobName"] for c in second["TrainingJobSummaries"]] == every[2:4]
    by_objective = {**request, "SortBy": "FinalObjectiveMetricValue", "SortOrder": "Descending"}
    seen, token = [], None
    while True:
        page = rig.service.list_training_jobs_for_hyper_parameter_tuning_job(
            {**by_objective, **({"NextToken": token} if token else {})}
        )
        seen += [
            c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for c in page["TrainingJobSummaries"]
        ]
        if not (token := page.get("NextToken")):
            break
    assert len(seen) == 4 and seen == sorted(seen, reverse=True)
