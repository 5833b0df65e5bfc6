import numpy as np

from trainplane.tuning import (
    CompletionCriteria,
    CompletionReason,
    Direction,
    History,
    Trial,
    TrialStatus,
    check_completion,
    convergence_detected,
    jobs_not_improving,
    target_reached,
)


def _history(values, direction=Direction.MINIMIZE, finished=None):
    trials = [
        Trial(
            str(i),
            {},
            TrialStatus.COMPLETED,
            objective=v,
            finished_at=None if finished is None else finished[i],
        )
        for i, v in enumerate(values)
    ]
    return History(tuple(trials), direction)


def test_target_reached_respects_direction():
    assert target_reached(_history([0.5, 0.2]), 0.2)
    assert not target_reached(_history([0.5, 0.3]), 0.2)
    assert target_reached(_history([0.5, 0.9], Direction.MAXIMIZE), 0.9)
    assert not target_reached(_history([0.5, 0.8], Direction.MAXIMIZE), 0.9)


def test_not_improving_counts_consecutive_results_below_one_percent():
    assert jobs_not_improving(_history([1.0, 0.5, 0.6, 0.499, 0.7])) == 3  # 0.499 is < 1 % better
    assert jobs_not_improving(_history([1.0, 0.5, 0.6, 0.4])) == 0
    assert jobs_not_improving(_history([])) == 0
    assert jobs_not_improving(_history([0.5, 0.6, 0.7], Direction.MAXIMIZE)) == 0


def test_not_improving_follows_finish_order_and_ignores_failures():
    # Launched 0, 1, 2 but 2 finished first: in finish order the improvement (0.1) comes last.
    assert jobs_not_improving(_history([0.5, 0.6, 0.1], finished=[2.0, 3.0, 1.0])) == 2
    failed = Trial("f", {}, TrialStatus.FAILED)
    history = History((*_history([1.0, 0.5]).trials, failed))
    assert jobs_not_improving(history) == 0


def test_check_completion_reports_reason_and_count():
    criteria = CompletionCriteria.from_api(
        {
            "TargetObjectiveMetricValue": 0.05,
            "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3},
        }
    )
    status = check_completion(criteria, _history([1.0, 0.5, 0.6, 0.7]))
    assert not status.complete and status.jobs_not_improving == 2
    status = check_completion(criteria, _history([1.0, 0.5, 0.6, 0.7, 0.8]))
    assert status.reason is CompletionReason.NOT_IMPROVING
    assert check_completion(criteria, _history([1.0, 0.01])).reason is CompletionReason.TARGET_REACHED
    assert not check_completion(CompletionCriteria(), _history([1.0] * 50)).complete


def test_convergence_needs_stagnation_and_concentration():
    rng = np.random.default_rng(0)
    converging = list(rng.uniform(0, 10, 20)) + [0.5 + 0.01 * v for v in rng.random(20)]
    converging[25] = min(converging) - 1.0  # the last real improvement, then a flat basin
    assert convergence_detected(_history(converging))
    random_search = list(rng.uniform(0, 10, 60))
    assert not convergence_detected(_history(random_search))
    improving = [10.0 - 0.2 * i for i in range(40)]
    assert not convergence_detected(_history(improving))
    assert not convergence_detected(_history(converging[:15]))  # too few results


def test_convergence_only_completes_when_enabled():
    flat = [0.5] * 30
    assert check_completion(CompletionCriteria(complete_on_convergence=False), _history(flat)).reason is None
    enabled = CompletionCriteria.from_api({"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}})
    assert check_completion(enabled, _history(flat)).reason is CompletionReason.CONVERGED
