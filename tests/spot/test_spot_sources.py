import statistics

import pytest

from trainplane.spot import (
    Interruption,
    InterruptionAt,
    NoInterruptions,
    Outage,
    PoissonInterruptions,
    ScheduledInterruptions,
    capacity_available,
    interruption_rate_per_hour,
)


def notice(source: PoissonInterruptions, attempt: int) -> Interruption:
    answer = source.next_interruption(attempt, 0.0)
    assert answer is not None
    return answer


def test_no_interruptions_never_interrupts_and_always_has_capacity() -> None:
    source = NoInterruptions()
    assert source.next_interruption(0, 0.0) is None
    assert source.capacity_from(123.5) == 123.5
    assert capacity_available(source, 5.0)


def test_interruption_needs_exactly_one_trigger() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Interruption()
    with pytest.raises(ValueError, match="exactly one"):
        Interruption(after_seconds=1, at_step=2)


def test_schedule_item_k_interrupts_attempt_k_at_job_time() -> None:
    source = ScheduledInterruptions(
        [InterruptionAt(seconds=30), InterruptionAt(seconds=90, outage_seconds=20)]
    )
    assert source.next_interruption(0, 0.0) == Interruption(after_seconds=30.0)
    # Attempt 1 started at job time 40 (after restart overhead): its notice comes at job time 90.
    assert source.next_interruption(1, 40.0) == Interruption(after_seconds=50.0, outage_seconds=20)
    assert source.next_interruption(2, 200.0) is None


def test_a_schedule_time_already_passed_fires_at_once() -> None:
    source = ScheduledInterruptions([InterruptionAt(seconds=30), InterruptionAt(seconds=40)])
    assert source.next_interruption(1, 100.0) == Interruption(after_seconds=0.0)


def test_schedule_step_items_ask_the_job_for_progress() -> None:
    source = ScheduledInterruptions([InterruptionAt(step=3, outage_seconds=5), InterruptionAt(seconds=60)])
    assert source.next_interruption(0, 0.0) == Interruption(at_step=3, outage_seconds=5)
    assert source.next_interruption(1, 10.0) == Interruption(after_seconds=50.0)


def test_schedule_times_must_increase() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        ScheduledInterruptions(
            [InterruptionAt(seconds=90), InterruptionAt(step=2), InterruptionAt(seconds=30)]
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"seconds": 0}, "> 0"),
        ({"step": 0}, ">= 1"),
        ({"step": 1, "outage_seconds": -1}, ">= 0"),
    ],
)
def test_bad_schedule_items_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        InterruptionAt(**kwargs)


def test_poisson_answers_depend_only_on_seed_and_attempt() -> None:
    a = PoissonInterruptions(rate_per_hour=2.0, seed=7, outage=Outage(mean_seconds=60))
    b = PoissonInterruptions(rate_per_hour=2.0, seed=7, outage=Outage(mean_seconds=60))
    forward = [a.next_interruption(k, 0.0) for k in range(5)]
    backward = [b.next_interruption(k, 0.0) for k in reversed(range(5))][::-1]
    assert forward == backward
    assert a.next_interruption(3, 999.0) == forward[3]  # memoryless: start time does not matter
    assert PoissonInterruptions(2.0, seed=8).next_interruption(0, 0.0) != forward[0]


def test_poisson_mean_gap_matches_the_rate() -> None:
    source = PoissonInterruptions(rate_per_hour=4.0, seed=11)
    gaps = [notice(source, k).after_seconds or 0.0 for k in range(4000)]
    # Exponential mean 900 s, sd 900 s: the mean of 4000 draws has sd ~14 s; allow ~4 sd.
    assert statistics.fmean(gaps) == pytest.approx(900.0, abs=60.0)


def test_poisson_outage_distributions() -> None:
    fixed = PoissonInterruptions(1.0, seed=1, outage=Outage(mean_seconds=120, distribution="fixed"))
    assert {notice(fixed, k).outage_seconds for k in range(10)} == {120}
    expo = PoissonInterruptions(1.0, seed=1, outage=Outage(mean_seconds=120))
    outages = [notice(expo, k).outage_seconds for k in range(4000)]
    assert statistics.fmean(outages) == pytest.approx(120.0, abs=10.0)


def test_poisson_rate_zero_never_interrupts() -> None:
    assert PoissonInterruptions(0.0, seed=1).next_interruption(0, 0.0) is None


def test_poisson_rate_for_a_cluster_scales_with_instance_count() -> None:
    source = PoissonInterruptions.for_instance_type("ml.p3.2xlarge", seed=1, instance_count=4)
    assert source.rate_per_hour == pytest.approx(4 * interruption_rate_per_hour("ml.p3.2xlarge"))


@pytest.mark.parametrize("rate", [-1.0, float("inf"), float("nan")])
def test_poisson_rejects_bad_rates(rate: float) -> None:
    with pytest.raises(ValueError, match="rate_per_hour"):
        PoissonInterruptions(rate, seed=1)


def test_poisson_draws_are_pinned_so_runs_reproduce_across_processes() -> None:
    # random.Random hashes string seeds with SHA-512, independent of PYTHONHASHSEED.
    assert notice(PoissonInterruptions(2.0, seed=7), 0).after_seconds == pytest.approx(86.03015795291928)
