import json

import pytest

from trainplane.tuning import (
    GridStrategy,
    History,
    RandomStrategy,
    RangeError,
    Trial,
    TrialStatus,
    grid_size,
    make_strategy,
    parse_parameter_ranges,
)

SPACE = parse_parameter_ranges(
    {
        "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "10"}],
        "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.001", "MaxValue": "1"}],
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
    }
)
GRID = parse_parameter_ranges(
    {
        "CategoricalParameterRanges": [
            {"Name": "a", "Values": ["x", "y"]},
            {"Name": "b", "Values": ["1", "2", "3"]},
        ]
    }
)


def _run(strategy, n, start=()):
    trials = list(start)
    out = []
    for _ in range(n):
        config = strategy.suggest(History(tuple(trials)))
        out.append(config)
        trials.append(Trial(str(len(trials)), config, TrialStatus.COMPLETED, objective=float(len(trials))))
    return out


@pytest.mark.parametrize("name", ["Random", "Bayesian", "Grid", "Hyperband"])
def test_same_seed_same_sequence(name):
    space = GRID if name == "Grid" else SPACE
    kwargs = {"hyperband": {"MaxResource": 9}} if name == "Hyperband" else {}
    first = _run(make_strategy(name, space, seed=7, **kwargs), 6)
    second = _run(make_strategy(name, space, seed=7, **kwargs), 6)
    assert first == second


def test_different_seeds_differ():
    assert _run(RandomStrategy(SPACE, seed=1), 3) != _run(RandomStrategy(SPACE, seed=2), 3)


@pytest.mark.parametrize("name", ["Random", "Bayesian", "Hyperband"])
def test_state_dict_round_trip_continues_the_same_sequence(name):
    kwargs = {"hyperband": {"MaxResource": 9}} if name == "Hyperband" else {}
    reference = make_strategy(name, SPACE, seed=3, **kwargs)
    whole = _run(reference, 14)

    first = make_strategy(name, SPACE, seed=3, **kwargs)
    head = _run(first, 12)
    state = json.loads(json.dumps(first.state_dict()))  # what the database would give back
    resumed = make_strategy(name, SPACE, seed=99, **kwargs)
    resumed.load_state_dict(state)
    history = [Trial(str(i), c, TrialStatus.COMPLETED, objective=float(i)) for i, c in enumerate(head)]
    tail = _run(resumed, 2, start=history)
    assert head + tail == whole


def test_unseeded_strategy_can_still_be_resumed():
    first = RandomStrategy(SPACE)
    _run(first, 2)
    copy = RandomStrategy(SPACE)
    copy.load_state_dict(first.state_dict())
    assert _run(first, 3) == _run(copy, 3)


def test_grid_enumerates_in_documented_order_then_exhausts():
    strategy = GridStrategy(GRID)
    configs = _run(strategy, 6)
    assert [(c["a"], c["b"]) for c in configs] == [
        ("x", "1"), ("x", "2"), ("x", "3"), ("y", "1"), ("y", "2"), ("y", "3"),
    ]  # fmt: skip
    history = History(
        tuple(Trial(str(i), c, TrialStatus.COMPLETED, objective=0.0) for i, c in enumerate(configs))
    )
    assert strategy.suggest(history) is None


def test_grid_skips_combinations_already_launched_whatever_their_status():
    taken = Trial("0", {"a": "x", "b": "1"}, TrialStatus.FAILED)
    running = Trial("1", {"a": "x", "b": "2"}, TrialStatus.RUNNING)
    assert GridStrategy(GRID).suggest(History((taken, running))) == {"a": "x", "b": "3"}


def test_grid_size_counts_combinations_and_rejects_numeric_ranges():
    assert grid_size(GRID) == 6
    with pytest.raises(RangeError, match="only CategoricalParameterRanges"):
        grid_size(SPACE)
    big = parse_parameter_ranges(
        {
            "CategoricalParameterRanges": [
                {"Name": f"c{i}", "Values": [str(j) for j in range(10)]} for i in range(3)
            ]
        }
    )
    with pytest.raises(RangeError, match="750"):
        grid_size(big)


def test_random_suggestions_stay_inside_the_space():
    for config in _run(RandomStrategy(SPACE, seed=0), 50):
        assert SPACE.contains(config)


def test_unknown_strategy_and_missing_max_resource_are_validation_errors():
    with pytest.raises(RangeError, match="not one of"):
        make_strategy("Evolutionary", SPACE)
    with pytest.raises(RangeError, match="MaxResource"):
        make_strategy("Hyperband", SPACE, static_hyperparameters={"lr": "0.1"})
    strategy = make_strategy("Hyperband", SPACE, static_hyperparameters={"epochs": "27"})
    assert strategy.max_resource == 27  # type: ignore[attr-defined]


def test_trials_and_histories_are_frozen():
    trial = Trial("0", {"a": "x"}, "completed", objective=1.0)
    assert trial.status is TrialStatus.COMPLETED
    with pytest.raises(TypeError):
        trial.config["a"] = "y"  # type: ignore[index]
    with pytest.raises(AttributeError):
        trial.objective = 2.0  # type: ignore[misc]
