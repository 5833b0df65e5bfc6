import time

import numpy as np

import trainplane.tuning as tuning
from trainplane.tuning import (
    BayesianStrategy,
    History,
    RandomStrategy,
    Trial,
    TrialStatus,
    parse_parameter_ranges,
)


def test_all_is_exactly_the_public_names():
    public = {name for name in vars(tuning) if not name.startswith("_")}
    modules = {"completion", "space", "stopping", "strategies", "gp", "acquisition"}
    assert set(tuning.__all__) == public - modules


def test_strategies_other_than_hyperband_never_stop_trials():
    space = parse_parameter_ranges(
        {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
    )
    trial = Trial("t", {"x": "0.5"}, TrialStatus.RUNNING, intermediate=(9.0, 9.0, 9.0))
    assert RandomStrategy(space, seed=0).should_stop(trial, History((trial,))) is False


def test_bayesian_suggestion_stays_fast_with_500_results():
    """The budget is 100 ms (see the benchmark for the measured number); 1 s tolerates a loaded CI box."""
    space = parse_parameter_ranges(
        {"ContinuousParameterRanges": [{"Name": f"x{i}", "MinValue": "0", "MaxValue": "1"} for i in range(6)]}
    )
    rng = np.random.default_rng(0)
    trials = []
    for i in range(500):
        config = space.from_unit(rng.random(6))
        value = sum((float(v) - 0.3) ** 2 for v in config.values())
        trials.append(Trial(str(i), config, TrialStatus.COMPLETED, objective=value))
    strategy = BayesianStrategy(space, seed=0)
    strategy.suggest(History(tuple(trials)))
    started = time.process_time()
    strategy.suggest(History(tuple(trials)))
    assert time.process_time() - started < 1.0
