import math

import numpy as np

from trainplane.tuning import (
    BayesianStrategy,
    Direction,
    History,
    RandomStrategy,
    Trial,
    TrialStatus,
    parse_parameter_ranges,
)

QUADRATIC = parse_parameter_ranges(
    {
        "ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "-5", "MaxValue": "5", "ScalingType": "Linear"},
            {"Name": "y", "MinValue": "-5", "MaxValue": "5", "ScalingType": "Linear"},
        ]
    }
)
OPTIMUM = (1.0, -2.0)


def quadratic(config):
    return (float(config["x"]) - OPTIMUM[0]) ** 2 + (float(config["y"]) - OPTIMUM[1]) ** 2


def _optimise(strategy, n, objective=quadratic, direction=Direction.MINIMIZE):
    trials = []
    for i in range(n):
        config = strategy.suggest(History(tuple(trials), direction))
        trials.append(Trial(str(i), config, TrialStatus.COMPLETED, objective=objective(config)))
    return trials


def test_bayesian_finds_the_quadratic_minimum_far_better_than_random():
    for seed in (0, 1):
        bayes = min(t.objective for t in _optimise(BayesianStrategy(QUADRATIC, seed=seed), 20))
        rand = min(t.objective for t in _optimise(RandomStrategy(QUADRATIC, seed=seed), 20))
        assert bayes < 0.05, bayes  # within ~0.2 of the optimum on a 10 x 10 box
        assert bayes < rand / 10, (bayes, rand)


def test_bayesian_maximises_when_asked():
    trials = _optimise(
        BayesianStrategy(QUADRATIC, seed=0),
        20,
        objective=lambda c: -quadratic(c),
        direction=Direction.MAXIMIZE,
    )
    assert max(t.objective for t in trials) > -0.05


def test_pending_trials_push_the_next_suggestion_elsewhere():
    done = _optimise(BayesianStrategy(QUADRATIC, seed=4), 12)
    strategy = BayesianStrategy(QUADRATIC, seed=4)
    strategy.load_state_dict({"seed": 4, "suggestions": 12})
    first = strategy.suggest(History(tuple(done)))
    pending = Trial("p", first, TrialStatus.RUNNING)
    strategy.load_state_dict(
        {"seed": 4, "suggestions": 12}
    )  # same randomness, only the pending trial differs
    second = strategy.suggest(History((*done, pending)))
    distance = math.dist([float(first["x"]), float(first["y"])], [float(second["x"]), float(second["y"])])
    assert distance > 0.05


def test_mixed_space_suggestions_are_valid_configs():
    space = parse_parameter_ranges(
        {
            "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "12"}],
            "ContinuousParameterRanges": [{"Name": "lr", "MinValue": "1e-4", "MaxValue": "1"}],
            "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd", "rmsprop"]}],
        }
    )

    def objective(c):
        penalty = {"adam": 0.0, "sgd": 1.0, "rmsprop": 0.5}[c["opt"]]
        return (int(c["depth"]) - 6) ** 2 / 10 + (math.log10(float(c["lr"])) + 2) ** 2 + penalty

    trials = _optimise(BayesianStrategy(space, seed=0), 25, objective=objective)
    assert all(space.contains(t.config) for t in trials)
    best = min(trials, key=lambda t: t.objective)
    assert best.config["opt"] == "adam" and best.objective < 0.5


def test_failed_and_diverged_trials_do_not_break_the_model():
    rng = np.random.default_rng(0)
    trials = []
    for i in range(15):
        config = QUADRATIC.from_unit(rng.random(2))
        if i % 5 == 0:
            trials.append(Trial(str(i), config, TrialStatus.FAILED))
        else:
            value = float("nan") if i % 7 == 0 else quadratic(config)
            trials.append(Trial(str(i), config, TrialStatus.COMPLETED, objective=value))
    assert QUADRATIC.contains(BayesianStrategy(QUADRATIC, seed=0).suggest(History(tuple(trials))))


def test_trials_outside_the_space_are_ignored():
    outside = Trial("w", {"x": "50", "y": "0"}, TrialStatus.COMPLETED, objective=-1e9)
    trials = (*_optimise(BayesianStrategy(QUADRATIC, seed=0), 10), outside)
    assert QUADRATIC.contains(BayesianStrategy(QUADRATIC, seed=0).suggest(History(trials)))


def _two_equal_minima(cost_grows_with_x: bool) -> History:
    # The objective has equally good minima at both ends of [0, 1]; the cost grows ~150-fold towards one
    # end. Only the cost can break the tie.
    trials = []
    for i, x in enumerate(np.linspace(0.02, 0.98, 12)):
        objective = -abs(float(x) - 0.5)
        cost = float(np.exp(5 * x if cost_grows_with_x else 5 * (1 - x)))
        trials.append(Trial(f"t{i}", {"x": repr(float(x))}, TrialStatus.COMPLETED, objective, cost=cost))
    return History(tuple(trials), Direction.MINIMIZE)


def test_cost_aware_mode_sends_proposals_to_the_cheap_one_of_two_equal_optima() -> None:
    space = parse_parameter_ranges(
        {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
    )
    for grows, cheap_end in ((True, 0.0), (False, 1.0)):
        history = _two_equal_minima(grows)
        proposals = [
            float(BayesianStrategy(space, seed=seed, cost_aware=True).suggest(history)["x"])
            for seed in range(6)
        ]
        assert all(abs(x - cheap_end) < 0.3 for x in proposals), (grows, proposals)


def test_cost_aware_mode_without_costs_behaves_like_plain_bayesian() -> None:
    space = parse_parameter_ranges(
        {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
    )
    trials = tuple(
        Trial(f"t{i}", {"x": repr(x)}, TrialStatus.COMPLETED, (x - 0.3) ** 2)
        for i, x in enumerate(np.linspace(0, 1, 8))
    )
    history = History(trials, Direction.MINIMIZE)
    assert BayesianStrategy(space, seed=5, cost_aware=True).suggest(history) == BayesianStrategy(
        space, seed=5
    ).suggest(history)


def test_the_prior_mean_is_the_initial_designs_average_not_the_searchs() -> None:
    # Later results cluster at good values, as a converging search's do; the model must still expect an
    # unexplored point to be as good as the space-filling initial design, not as good as the cluster.
    strategy = BayesianStrategy(QUADRATIC, seed=0, n_initial=5)
    rng = np.random.default_rng(0)
    configs = [QUADRATIC.from_unit(rng.random(2)) for _ in range(5)]
    configs += [{"x": repr(1.0 + 0.01 * i), "y": "-2.0"} for i in range(10)]
    trials = tuple(
        Trial(str(i), c, TrialStatus.COMPLETED, objective=quadratic(c)) for i, c in enumerate(configs)
    )
    _x, y = strategy._data(list(trials), History(trials), rng)
    assert abs(y[:5].mean()) < 1e-9
    assert y[5:].min() > 0  # every clustered good result is above the prior mean
