"""Warm start (reference §7.7): parent rules, seeding from parents' children, OverallBestTrainingJob."""

from __future__ import annotations

from typing import Any

import pytest
from tuning_helpers import tuning_request
from tuning_rig import Rig, quadratic

from trainplane.errors import ValidationError


def warm(request: dict[str, Any], kind: str, *parents: str) -> dict[str, Any]:
    request["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p} for p in parents],
        "WarmStartType": kind,
    }
    return request


@pytest.fixture
def parent(rig: Rig) -> str:
    rig.create(tuning_request("parent", rig.tmp_path, max_jobs=4, parallel=2, static={"mode": "a"}))
    rig.run("parent", quadratic)
    return "parent"


def test_identical_data_and_algorithm_reports_the_overall_best(rig: Rig, parent: str) -> None:
    request = warm(
        tuning_request("child", rig.tmp_path, static={"mode": "a"}), "IdenticalDataAndAlgorithm", parent
    )
    rig.create(request)
    rig.run("child", lambda hps: [10.0])  # every new child is worse than every parent child
    description = rig.describe("child")
    parent_best = rig.describe(parent)["BestTrainingJob"]
    assert description["OverallBestTrainingJob"]["TrainingJobName"] == parent_best["TrainingJobName"]
    assert description["OverallBestTrainingJob"]["TuningJobName"] == parent
    assert description["BestTrainingJob"]["TuningJobName"] == "child"
    assert description["WarmStartConfig"]["WarmStartType"] == "IdenticalDataAndAlgorithm"


def test_transfer_learning_has_no_overall_best(rig: Rig, parent: str) -> None:
    rig.create(warm(tuning_request("tl", rig.tmp_path, static={"mode": "a"}), "TransferLearning", parent))
    rig.run("tl", quadratic)
    assert "OverallBestTrainingJob" not in rig.describe("tl")


def test_parents_children_seed_the_bayesian_history(rig: Rig, parent: str) -> None:
    rig.create(
        warm(
            tuning_request(
                "seeded", rig.tmp_path, strategy="Bayesian", max_jobs=2, parallel=1, static={"mode": "a"}
            ),
            "TransferLearning",
            parent,
        )
    )
    rig.tick()
    driven = rig.tuner._driven["seeded"]
    parent_children = {c["TrainingJobName"] for c in rig.children(parent)}
    assert {t.id for t in driven.parents} == parent_children
    assert all(t.objective is not None and t.config["mode"] == "a" for t in driven.parents)


def test_a_parent_named_twice_seeds_its_children_once(rig: Rig, parent: str) -> None:
    request = tuning_request(
        "twice", rig.tmp_path, strategy="Bayesian", max_jobs=2, parallel=1, static={"mode": "a"}
    )
    rig.create(warm(request, "TransferLearning", parent, parent.upper()))
    rig.tick()
    seeded = sorted(t.id for t in rig.tuner._driven["twice"].parents)
    assert seeded == sorted(c["TrainingJobName"] for c in rig.children(parent))


@pytest.mark.parametrize("strategy", ["Random", "Bayesian"])
def test_a_child_with_its_parents_random_seed_does_not_rerun_their_configurations(
    rig: Rig, strategy: str
) -> None:
    def request(name: str) -> dict[str, Any]:
        return tuning_request(
            name, rig.tmp_path, strategy=strategy, max_jobs=3, parallel=1, static={"mode": "a"}, RandomSeed=7
        )

    rig.create(request("seed-parent"))
    rig.run("seed-parent", quadratic)
    rig.create(warm(request("seed-child"), "IdenticalDataAndAlgorithm", "seed-parent"))
    rig.run("seed-child", quadratic)
    rig.create(request("seed-again"))  # the same request without a parent: the parent's sequence
    rig.run("seed-again", quadratic)

    def tried(name: str) -> set[str]:
        return {rig.store.get_training_job(c["TrainingJobName"]).request["HyperParameters"]["x"]
                for c in rig.children(name)}  # fmt: skip

    assert tried("seed-again") == tried("seed-parent")  # RandomSeed still makes the sequence reproducible
    assert not tried("seed-child") & tried("seed-parent")


def test_a_static_value_of_a_parent_becomes_part_of_its_seeded_configs(rig: Rig, parent: str) -> None:
    ranges = {
        "ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}],
        "CategoricalParameterRanges": [{"Name": "mode", "Values": ["a", "b"]}],
    }
    rig.create(warm(tuning_request("widened", rig.tmp_path, ranges=ranges), "TransferLearning", parent))
    rig.tick()
    assert {t.config["mode"] for t in rig.tuner._driven["widened"].parents} == {"a"}


def test_a_missing_parent_is_rejected(rig: Rig) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        rig.create(warm(tuning_request("orphan", rig.tmp_path), "TransferLearning", "nobody"))


def test_a_running_parent_is_rejected(rig: Rig) -> None:
    rig.create(tuning_request("busy", rig.tmp_path, static={"mode": "a"}))
    with pytest.raises(ValidationError, match="is InProgress"):
        rig.create(
            warm(tuning_request("early", rig.tmp_path, static={"mode": "a"}), "TransferLearning", "busy")
        )


def test_a_different_objective_is_rejected(rig: Rig, parent: str) -> None:
    request = tuning_request("other", rig.tmp_path, objective="Maximize", static={"mode": "a"})
    with pytest.raises(ValidationError, match="objective of parent"):
        rig.create(warm(request, "TransferLearning", parent))


def test_a_different_number_of_hyperparameters_is_rejected(rig: Rig, parent: str) -> None:
    request = tuning_request("fewer", rig.tmp_path)
    with pytest.raises(ValidationError, match="total number of static and tunable"):
        rig.create(warm(request, "TransferLearning", parent))


def test_a_changed_parameter_type_is_rejected(rig: Rig, parent: str) -> None:
    ranges = {"IntegerParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "3"}]}
    request = tuning_request("retyped", rig.tmp_path, ranges=ranges, static={"mode": "a"})
    with pytest.raises(ValidationError, match="type of hyperparameter x changed"):
        rig.create(warm(request, "TransferLearning", parent))


def test_more_than_ten_changes_are_rejected(rig: Rig) -> None:
    static = {f"s{i}": "1" for i in range(6)}
    rig.create(tuning_request("base", rig.tmp_path, max_jobs=1, parallel=1, static=static))
    rig.run("base", quadratic)
    changed = {f"s{i}": "2" for i in range(6)}  # 6 static values changed = 12 changes
    with pytest.raises(ValidationError, match="makes 12"):
        rig.create(warm(tuning_request("drift", rig.tmp_path, static=changed), "TransferLearning", "base"))
    five = {**static, **{f"s{i}": "2" for i in range(5)}}  # 10 changes: allowed
    assert rig.create(warm(tuning_request("ok", rig.tmp_path, static=five), "TransferLearning", "base"))


def test_identical_data_and_algorithm_rejects_a_new_image(rig: Rig, parent: str) -> None:
    request = tuning_request("newimg", rig.tmp_path, static={"mode": "a"})
    request["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] += "-v2"
    with pytest.raises(ValidationError, match="same training image"):
        rig.create(warm(request, "IdenticalDataAndAlgorithm", parent))
    assert rig.create(warm(request, "TransferLearning", parent))


def test_warm_start_needs_bayesian_or_random(rig: Rig, parent: str) -> None:
    ranges = {"CategoricalParameterRanges": [{"Name": "x", "Values": ["0.1", "0.2"]}]}
    request = tuning_request(
        "gridwarm", rig.tmp_path, strategy="Grid", max_jobs=None, ranges=ranges, static={"mode": "a"}
    )
    with pytest.raises(ValidationError, match="Bayesian and Random"):
        rig.create(warm(request, "TransferLearning", parent))
