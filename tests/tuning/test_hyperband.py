import pytest

from trainplane.tuning import (
    Direction,
    History,
    HyperbandStrategy,
    RangeError,
    Trial,
    TrialStatus,
    infer_max_resource,
    make_strategy,
    parse_parameter_ranges,
)
from trainplane.tuning.strategies import default_min_resource

SPACE = parse_parameter_ranges(
    {"ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0", "MaxValue": "1"}]}
)


def _trial(tid, values, status=TrialStatus.RUNNING):
    return Trial(tid, {"lr": "0.5"}, status, objective=values[-1] if values else None, intermediate=values)


def _single_bracket(max_resource=27, min_resource=1):
    """A strategy whose bracket draw is forced to bracket 0 for every trial."""
    strategy = HyperbandStrategy(SPACE, min_resource=min_resource, max_resource=max_resource, seed=0)
    strategy.bracket_of = lambda position: 0  # type: ignore[method-assign]
    return strategy


def test_rungs_and_brackets_follow_the_reduction_factor():
    strategy = HyperbandStrategy(SPACE, min_resource=1, max_resource=81, brackets=5, seed=0)
    assert list(strategy.brackets) == [0, 1, 2, 3, 4]
    assert strategy.rungs(0) == [1, 3, 9, 27]
    assert strategy.rungs(2) == [9, 27]
    assert strategy.rungs(4) == []


def test_bracket_assignment_is_seeded_and_favours_aggressive_brackets():
    a = HyperbandStrategy(SPACE, min_resource=1, max_resource=81, brackets=5, seed=5)
    b = HyperbandStrategy(SPACE, min_resource=1, max_resource=81, brackets=5, seed=5)
    draws = [a.bracket_of(i) for i in range(2000)]
    assert draws == [b.bracket_of(i) for i in range(2000)]
    assert draws.count(0) > draws.count(1) > draws.count(4) > 0


def test_default_is_one_bracket_with_rungs_from_a_ninth_of_max_resource():
    strategy = HyperbandStrategy(SPACE, max_resource=81, seed=0)
    assert strategy.min_resource == 9
    assert list(strategy.brackets) == [0]
    assert strategy.rungs(0) == [9, 27]
    assert {strategy.bracket_of(i) for i in range(100)} == {0}


@pytest.mark.parametrize(
    ("max_resource", "expected"), [(1, 1), (8, 1), (9, 1), (27, 3), (100, 11), (243, 27)]
)
def test_default_min_resource_is_a_ninth_of_max_resource(max_resource, expected):
    assert default_min_resource(max_resource) == expected
    assert HyperbandStrategy(SPACE, max_resource=max_resource, seed=0).min_resource == expected


def test_make_strategy_uses_the_default_only_when_min_resource_is_omitted():
    omitted = make_strategy("Hyperband", SPACE, hyperband={"MaxResource": 81}, seed=0)
    explicit = make_strategy("Hyperband", SPACE, hyperband={"MaxResource": 81, "MinResource": 1}, seed=0)
    inferred = make_strategy("Hyperband", SPACE, static_hyperparameters={"epochs": "27"}, seed=0)
    assert isinstance(omitted, HyperbandStrategy) and omitted.min_resource == 9
    assert isinstance(explicit, HyperbandStrategy) and explicit.rungs(0) == [1, 3, 9, 27]
    assert isinstance(inferred, HyperbandStrategy) and inferred.rungs(0) == [3, 9]


def test_a_slow_starter_is_not_judged_before_the_first_rung():
    """Worst of all peers for eight epochs, then best by the first rung (epoch 9): never stopped."""
    strategy = HyperbandStrategy(SPACE, max_resource=81, seed=0)
    peers = [_trial(f"p{i}", [0.3 - 0.001 * e for e in range(27)]) for i in range(6)]
    slow = [1.0 - 0.09 * e for e in range(9)]  # 1.0 at epoch 1, 0.28 at epoch 9
    for epochs in range(1, 10):
        trial = _trial("slow", slow[:epochs])
        assert strategy.should_stop(trial, History((*peers, trial))) is False


def test_more_brackets_spread_trials_and_split_peers():
    strategy = HyperbandStrategy(SPACE, min_resource=1, max_resource=81, brackets=2, seed=3)
    assert list(strategy.brackets) == [0, 1]
    draws = [strategy.bracket_of(i) for i in range(300)]
    assert set(draws) == {0, 1} and draws.count(0) > draws.count(1)


def test_worse_than_top_third_at_a_rung_is_stopped():
    strategy = _single_bracket()
    peers = [_trial(f"p{i}", [v, v, v]) for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 0.5])]
    good = _trial("good", [0.15, 0.1, 0.05])  # rung 3 value 0.05: best of 6, continues
    bad = _trial("bad", [0.15, 0.6, 0.6])  # rung 3 value 0.6: worst of 6, top 6 // 3 = 2 continue
    history = History((*peers, good, bad))
    assert strategy.should_stop(good, history) is False
    assert strategy.should_stop(bad, history) is True


def test_rank_cutoff_counts_only_peers_of_the_same_rung():
    strategy = _single_bracket()
    behind = [_trial(f"p{i}", [0.0]) for i in range(5)]  # only reached epoch 1
    trial = _trial("t", [1.0, 1.0, 1.0])
    # At rung 3 the trial is alone: too few to judge, so it continues.
    assert strategy.should_stop(trial, History((*behind, trial))) is False


def test_between_rungs_the_latest_rung_decides():
    strategy = _single_bracket()
    peers = [_trial(f"p{i}", [0.1] * 4) for i in range(3)]
    trial = _trial("t", [0.9, 0.9, 0.9, 0.9, 0.05])  # epoch 5: judged at rung 3 where it was 0.9
    assert strategy.should_stop(trial, History((*peers, trial))) is True


def test_never_stopped_before_min_resource_and_always_at_max_resource():
    strategy = _single_bracket(max_resource=27, min_resource=3)
    peers = [_trial(f"p{i}", [0.0, 0.0, 0.0]) for i in range(5)]
    early = _trial("early", [9.0, 9.0])
    done = _trial("done", [0.0] * 27)
    history = History((*peers, early, done))
    assert strategy.should_stop(early, history) is False
    assert strategy.should_stop(done, history) is True


def test_maximisation_flips_the_ranking():
    strategy = _single_bracket()
    peers = [_trial(f"p{i}", [v]) for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 0.5])]
    trial = _trial("t", [0.9])
    assert strategy.should_stop(trial, History((*peers, trial), Direction.MAXIMIZE)) is False
    assert strategy.should_stop(trial, History((*peers, trial), Direction.MINIMIZE)) is True


def test_suggestions_are_random_configs():
    strategy = HyperbandStrategy(SPACE, max_resource=9, seed=1)
    configs = [strategy.suggest(History()) for _ in range(5)]
    assert len({c["lr"] for c in configs}) == 5


@pytest.mark.parametrize(
    ("static", "expected"),
    [
        ({"epochs": "30"}, 30),
        ({"num_epochs": "12", "lr": "0.1"}, 12),
        ({"n-epochs": "5"}, 5),
        ({"numepochs": "7"}, 7),
        ({"n_epochs": "8"}, 8),
        ({"num_round": "100"}, 100),  # trainplane extension for XGBoost
        ({"epochs": "ten"}, None),
        ({"lr": "0.1"}, None),
    ],
)
def test_infer_max_resource(static, expected):
    assert infer_max_resource(static) == expected


def test_invalid_resources_are_range_errors():
    with pytest.raises(RangeError):
        HyperbandStrategy(SPACE, min_resource=10, max_resource=5)
    # The message names only what the user set (or the static value it was taken from), not a
    # MinResource derived from a MaxResource that is itself out of range.
    with pytest.raises(RangeError, match=r"1 <= MaxResource \(20001\) <= 20000") as caught:
        HyperbandStrategy(SPACE, max_resource=20_001)
    assert "MinResource" not in str(caught.value)
    with pytest.raises(RangeError):
        HyperbandStrategy(SPACE, max_resource=81, brackets=0)


def _curve(points, length):
    """Piecewise-constant curve: ``points`` maps the first epoch (1-based) of each value to the value."""
    value, out = None, []
    for epoch in range(1, length + 1):
        value = points.get(epoch, value)
        out.append(value)
    return out


def _finished(tid, at3, at9, at27):
    return _trial(tid, _curve({1: at3, 4: at9, 10: at27}, 27), TrialStatus.STOPPED)


def test_continuation_ratio_is_the_clipped_median_over_finished_trials():
    strategy = _single_bracket(max_resource=27, min_resource=3)

    def ratio(*finished):
        return strategy.continuation_ratio(9, History(finished))

    # Improved by 0.4 from epoch 3 to 9, then by 0.2, 0.8 and 0.1 more by 27: ratios 0.5, 2, 0.25.
    mixed = [_finished(tid, 1.0, 0.6, end) for tid, end in (("a", 0.4), ("b", -0.2), ("c", 0.5))]
    assert ratio(*mixed) == pytest.approx(0.5)
    assert ratio(*(_finished(f"f{i}", 1.0, 0.6, -1.0) for i in range(3))) == 1.0  # clipped
    assert ratio(*(_finished(f"f{i}", 1.0, 0.6, 0.9) for i in range(3))) == 0.0  # got worse: clipped
    assert ratio(_finished("a", 1.0, 0.6, 0.4), _finished("b", 1.0, 0.6, 0.4)) == 0.0  # too few to learn from
    unfinished = [_trial(f"u{i}", _curve({1: 1.0, 4: 0.6, 10: 0.4}, 26)) for i in range(3)]
    assert ratio(*unfinished) == 0.0


def _rung_9_history(slow, finished_end):
    """Three finished trials (0.6 at epoch 9, ``finished_end`` at 27), three that plateaued at 0.3 by
    epoch 3, and ``slow``."""
    finished = [_finished(f"f{i}", 1.0, 0.6, finished_end) for i in range(3)]
    flat = [_trial(f"p{i}", [0.3] * 9) for i in range(3)]
    return History((*finished, *flat, slow))


def test_a_slow_starter_still_improving_continues_when_finished_trials_kept_improving():
    """Behind the plateaued trials at the rung (0.35 vs 0.3) but improving fast (0.9 -> 0.35): judged
    by its value it is stopped; credited with the improvement finished trials went on to make, it
    continues."""
    strategy = _single_bracket(max_resource=27, min_resource=3)
    slow = _trial("slow", _curve({1: 0.9, 4: 0.35}, 9))
    assert strategy.should_stop(slow, _rung_9_history(slow, finished_end=0.2)) is False  # ratio 1
    assert strategy.should_stop(slow, _rung_9_history(slow, finished_end=0.6)) is True  # ratio 0


def test_the_projection_never_rescues_a_trial_that_got_worse_or_diverged():
    strategy = _single_bracket(max_resource=27, min_resource=3)
    worse = _trial("worse", _curve({1: 0.2, 4: 0.35}, 9))
    diverged = _trial("diverged", _curve({1: 0.9, 4: float("nan")}, 9))
    for trial in (worse, diverged):
        assert strategy.should_stop(trial, _rung_9_history(trial, finished_end=0.2)) is True
