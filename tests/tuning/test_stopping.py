from trainplane.tuning import Direction, History, MedianStoppingRule, Trial, TrialStatus


def _trial(tid, values, status=TrialStatus.COMPLETED):
    return Trial(tid, {}, status, objective=values[-1], intermediate=values)


PREVIOUS = (
    _trial("a", [1.0, 0.8, 0.6]),  # running averages at epoch 2: 0.9
    _trial("b", [1.2, 1.0, 0.9]),  # 1.1
    _trial("c", [0.8, 0.6, 0.5]),  # 0.7
)


def test_worse_than_the_median_running_average_is_stopped():
    rule = MedianStoppingRule()
    bad = _trial("x", [1.0, 0.95], TrialStatus.RUNNING)
    good = _trial("y", [1.0, 0.85], TrialStatus.RUNNING)
    assert rule.should_stop(bad, History((*PREVIOUS, bad))) is True
    assert rule.should_stop(good, History((*PREVIOUS, good))) is False


def test_abstains_until_enough_trials_reached_the_epoch():
    rule = MedianStoppingRule(min_trials=3)
    bad = _trial("x", [5.0, 5.0], TrialStatus.RUNNING)
    assert rule.should_stop(bad, History((*PREVIOUS[:2], bad))) is False
    short = _trial("s", [0.1])  # reached epoch 1 only, does not count at epoch 2
    assert rule.should_stop(bad, History((*PREVIOUS[:2], short, bad))) is False


def test_maximisation_stops_the_lower_values():
    rule = MedianStoppingRule()
    trial = _trial("x", [1.0, 0.95], TrialStatus.RUNNING)
    assert rule.should_stop(trial, History((*PREVIOUS, trial), Direction.MAXIMIZE)) is False
    low = _trial("z", [1.0, 0.5], TrialStatus.RUNNING)
    assert rule.should_stop(low, History((*PREVIOUS, low), Direction.MAXIMIZE)) is True


def test_min_epochs_and_diverged_values():
    rule = MedianStoppingRule(min_epochs=3)
    trial = _trial("x", [9.0, 9.0], TrialStatus.RUNNING)
    assert rule.should_stop(trial, History((*PREVIOUS, trial))) is False
    nan = _trial("n", [float("nan")], TrialStatus.RUNNING)
    assert MedianStoppingRule().should_stop(nan, History((*PREVIOUS, nan))) is True


def test_no_reports_no_decision():
    trial = Trial("x", {}, TrialStatus.RUNNING)
    assert MedianStoppingRule().should_stop(trial, History((*PREVIOUS, trial))) is False
