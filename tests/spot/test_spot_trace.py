import json
from pathlib import Path

import pytest

from trainplane.spot import Interruption, SpotTrace, TraceReplay, bundled_traces, load_trace, parse_trace

P3_EAST = "aws-p3.2xlarge-us-east-1c-preemption-2023-04"
P3_X4 = "aws-p3.2xlarge-x4-us-west-2c-preemption-2023-08"


def test_all_four_copied_traces_are_bundled_and_load() -> None:
    names = bundled_traces()
    assert len(names) == 4
    for name in names:
        trace = load_trace(name)
        assert trace.name == name and trace.gap_seconds > 0 and trace.counts


def test_replay_of_a_copied_preemption_trace() -> None:
    trace = load_trace(P3_EAST)
    assert (trace.gap_seconds, len(trace.counts)) == (32, 19961)
    replay = TraceReplay(trace)
    # The trace starts without capacity; the first instance comes up at tick 350 and is lost at 369.
    assert replay.capacity_from(0.0) == 350 * 32
    assert replay.next_interruption(0, 350 * 32) == Interruption(after_seconds=(369 - 350) * 32)


def test_replay_of_a_four_node_trace_needs_all_four_for_a_four_node_job() -> None:
    trace = load_trace(P3_X4)
    four, one = TraceReplay(trace, required=4), TraceReplay(trace, required=1)
    assert four.next_interruption(0, 0.0) == Interruption(after_seconds=28 * 300)
    assert four.capacity_from(28 * 300) == 37 * 300
    # Ticks 43-51 are empty, tick 52 has 3 of 4 nodes: enough for one node, not for four.
    assert one.capacity_from(43 * 300) == 52 * 300
    assert four.capacity_from(43 * 300) == 53 * 300


def test_replay_mid_tick_answers_are_relative_to_the_question() -> None:
    replay = TraceReplay(SpotTrace(gap_seconds=10, counts=(1, 1, 0, 1)))
    assert replay.capacity_from(5.0) == 5.0
    assert replay.next_interruption(0, 5.0) == Interruption(after_seconds=15.0)
    assert replay.capacity_from(25.0) == 30.0
    assert replay.next_interruption(1, 20.0) == Interruption(after_seconds=0.0)  # started without capacity


def test_replay_wraps_around_and_honours_the_offset() -> None:
    trace = SpotTrace(gap_seconds=10, counts=(0, 1, 1))
    assert TraceReplay(trace).next_interruption(0, 10.0) == Interruption(after_seconds=20.0)
    shifted = TraceReplay(trace, offset_ticks=1)  # job time 0 falls at tick 1
    assert shifted.capacity_from(0.0) == 0.0
    assert shifted.next_interruption(0, 0.0) == Interruption(after_seconds=20.0)
    assert shifted.capacity_from(20.0) == 30.0


def test_replay_of_a_trace_that_never_drops_or_never_has_capacity() -> None:
    assert TraceReplay(SpotTrace(gap_seconds=5, counts=(2, 3))).next_interruption(0, 0.0) is None
    assert TraceReplay(SpotTrace(gap_seconds=5, counts=(0, 1)), required=2).capacity_from(0.0) is None


def test_trace_files_load_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"metadata": {"gap_seconds": 60}, "data": [1, 0, 1]}))
    assert load_trace(path) == SpotTrace(gap_seconds=60, counts=(1, 0, 1), name="mine")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"data": [1]}, "expected"),
        ({"metadata": {"gap_seconds": 1.5}, "data": [1]}, "gap_seconds must be an integer"),
        ({"metadata": {"gap_seconds": 10}, "data": [1, "x"]}, "integer instance counts"),
        ({"metadata": {"gap_seconds": 10}, "data": []}, "empty"),
        ({"metadata": {"gap_seconds": 0}, "data": [1]}, "positive"),
    ],
)
def test_malformed_traces_are_rejected(document: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_trace(document, "t")


def test_missing_and_non_json_trace_files_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no trace file"):
        load_trace(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_trace(bad)
