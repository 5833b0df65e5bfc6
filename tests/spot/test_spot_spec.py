import json
from pathlib import Path

import pytest

from trainplane.spot import (
    Interruption,
    NoInterruptions,
    PoissonInterruptions,
    ScheduledInterruptions,
    TraceReplay,
    interruption_rate_per_hour,
    parse_source,
)


def test_none_as_string_or_mapping() -> None:
    assert isinstance(parse_source("none"), NoInterruptions)
    assert isinstance(parse_source({"type": "none"}), NoInterruptions)


def test_schedule_at_seconds_is_sorted_and_shares_one_outage() -> None:
    source = parse_source({"type": "schedule", "at_seconds": [90, 30], "outage_seconds": 15})
    assert isinstance(source, ScheduledInterruptions)
    assert [(i.seconds, i.outage_seconds) for i in source.items] == [(30, 15), (90, 15)]


def test_schedule_at_steps_with_an_outage_per_item() -> None:
    source = parse_source({"type": "schedule", "at_steps": [3, 5], "outage_seconds": [10, 0]})
    assert source.next_interruption(0, 0.0) == Interruption(at_step=3, outage_seconds=10)
    assert source.next_interruption(1, 0.0) == Interruption(at_step=5)


def test_schedule_items_mix_times_and_steps() -> None:
    source = parse_source({"type": "schedule", "items": [{"seconds": 30, "outage_seconds": 5}, {"step": 4}]})
    assert source.next_interruption(0, 0.0) == Interruption(after_seconds=30.0, outage_seconds=5)
    assert source.next_interruption(1, 35.0) == Interruption(at_step=4)


def test_poisson_rate_comes_from_the_instance_type_unless_given() -> None:
    source = parse_source({"type": "poisson", "seed": 7}, instance_type="ml.g5.xlarge", instance_count=2)
    assert isinstance(source, PoissonInterruptions)
    assert source.rate_per_hour == pytest.approx(2 * interruption_rate_per_hour("ml.g5.xlarge"))
    assert source.seed == 7
    explicit = parse_source({"type": "poisson", "rate_per_hour": 3, "seed": 7, "outage_mean_seconds": 60})
    assert isinstance(explicit, PoissonInterruptions)
    assert (explicit.rate_per_hour, explicit.outage.mean_seconds) == (3.0, 60.0)


def test_same_spec_same_answers() -> None:
    spec = {"type": "poisson", "rate_per_hour": 1.5, "seed": 42}
    assert parse_source(spec).next_interruption(2, 0.0) == parse_source(spec).next_interruption(2, 0.0)


def test_trace_by_bundled_name_with_offset_and_by_relative_path(tmp_path: Path) -> None:
    spec = {
        "type": "trace",
        "name": "aws-p3.2xlarge-us-east-1c-preemption-2023-04",
        "offset_seconds": 350 * 32,
    }
    source = parse_source(spec)
    assert isinstance(source, TraceReplay)
    assert source.capacity_from(0.0) == 0.0
    (tmp_path / "t.json").write_text(json.dumps({"metadata": {"gap_seconds": 10}, "data": [1, 1, 0]}))
    source = parse_source({"type": "trace", "path": "t.json"}, base_dir=tmp_path)
    assert source.next_interruption(0, 0.0) == Interruption(after_seconds=20.0)


def test_trace_seed_picks_a_reproducible_offset() -> None:
    spec = {"type": "trace", "name": "aws-r5.16xlarge-us-east-1c-preemption-2023-04", "seed": 3}
    first, second = parse_source(spec), parse_source(spec)
    assert isinstance(first, TraceReplay) and isinstance(second, TraceReplay)
    assert first.offset_ticks == second.offset_ticks


def test_trace_required_defaults_to_the_instance_count() -> None:
    spec = {"type": "trace", "name": "aws-p3.2xlarge-x4-us-west-2c-preemption-2023-08"}
    source = parse_source(spec, instance_count=4)
    assert isinstance(source, TraceReplay) and source.required == 4


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("sometimes", "must be one of"),
        ({"seed": 1}, "must be one of"),
        (42, "string or a mapping"),
        ({"type": "none", "seed": 1}, "unknown keys"),
        ({"type": "poisson", "rate": 1}, r"unknown keys .*'rate'"),
        ({"type": "poisson", "seed": 1}, "needs rate_per_hour or the job's instance type"),
        ({"type": "poisson", "rate_per_hour": "fast"}, "rate_per_hour must be a number"),
        ({"type": "poisson", "rate_per_hour": -2}, "rate_per_hour"),
        ({"type": "poisson", "rate_per_hour": 1, "seed": "x"}, "seed must be an integer"),
        (
            {"type": "poisson", "rate_per_hour": 1, "outage_distribution": "weibull"},
            "'fixed' or 'exponential'",
        ),
        ({"type": "poisson", "rate_per_hour": 1, "outage_mean_seconds": "long"}, "outage_mean_seconds"),
        ({"type": "schedule"}, "exactly one of at_seconds, at_steps, items"),
        ({"type": "schedule", "at_seconds": [1], "at_steps": [2]}, "exactly one of"),
        ({"type": "schedule", "at_seconds": "30"}, "list of numbers"),
        ({"type": "schedule", "at_seconds": [0]}, "> 0"),
        ({"type": "schedule", "at_steps": [1.5]}, "whole steps"),
        ({"type": "schedule", "at_seconds": [1, 2], "outage_seconds": [1]}, "a number or 2 numbers"),
        ({"type": "schedule", "items": [{"when": 3}]}, "bad 'schedule'"),
        ({"type": "schedule", "items": [{"seconds": 3}], "outage_seconds": 1}, "inside each item"),
        ({"type": "trace"}, "exactly one of name"),
        ({"type": "trace", "name": "no-such-trace"}, "no bundled trace"),
        (
            {
                "type": "trace",
                "name": "aws-p3.2xlarge-us-east-1c-preemption-2023-04",
                "seed": 1,
                "offset_seconds": 5,
            },
            "not both",
        ),
        ({"type": "trace", "name": "aws-p3.2xlarge-us-east-1c-preemption-2023-04", "required": 0}, ">= 1"),
    ],
)
def test_bad_specs_raise_value_errors_that_name_the_problem(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_source(spec)  # type: ignore[arg-type]
