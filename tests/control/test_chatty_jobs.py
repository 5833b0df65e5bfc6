"""A job that prints faster than the control plane stores its output can still be stopped, and loses
no line: output is stored in bounded batches per tick (stop delivery is not starved behind the backlog),
and the hosts' backlog is drained in order before the job finishes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs_helpers import SKLEARN_IMAGE, script_job
from trainplane import TrainPlane
from trainplane.algorithms.registry import MAX_METRIC_DEFINITIONS
from trainplane.algorithms.xgboost import metric_definitions

pytestmark = pytest.mark.slow

# Prints ~100k numbered, XGBoost-style metric lines a second (faster than they are scanned against the
# job's metric definitions and stored) until stopped, for at most 60 s so that a failing test leaves no
# runaway job behind.
CHATTY = """
    import sys, time
    deadline = time.monotonic() + 60
    i = 0
    while time.monotonic() < deadline:
        for _ in range(1000):
            print(f"[{i}]#011train-rmse:0.5#011validation-rmse:0.25")
            i += 1
        sys.stdout.flush()
        time.sleep(0.01)
    print("deadline reached", flush=True)
"""


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home"), "TRAINPLANE_STOP_GRACE_SECONDS": "3"}
    with TrainPlane(environ=environ) as client:
        yield client


def test_a_job_printing_faster_than_it_is_stored_stops_and_keeps_every_line_in_order(
    tp: TrainPlane, tmp_path: Path
) -> None:
    definitions = metric_definitions()[:MAX_METRIC_DEFINITIONS]  # the built-in's own, as many as allowed
    algorithm = {
        "TrainingImage": SKLEARN_IMAGE,
        "TrainingInputMode": "File",
        "MetricDefinitions": definitions,
    }
    tp.create_training_job(**script_job("chatty", tmp_path, CHATTY, AlgorithmSpecification=algorithm))
    try:
        _wait_for_stored_lines(tp, "chatty", 20_000)
        tp.stop_training_job(TrainingJobName="chatty")
        description = tp.wait_for_training_job("chatty", timeout=180)
    finally:  # never leave the job running, whatever failed above
        if tp.describe_training_job(TrainingJobName="chatty")["TrainingJobStatus"] == "InProgress":
            tp.stop_training_job(TrainingJobName="chatty")
        tp.wait_for_training_job("chatty", timeout=180)

    assert description["TrainingJobStatus"] == "Stopped"
    messages = _all_messages(tp, "chatty")
    # The stop reached the job while it was still printing, not after it finished on its own.
    assert "deadline reached" not in messages
    numbered = [m for m in messages if m.startswith("[")]
    assert len(numbered) > 20_000
    expected = [f"[{i}]#011train-rmse:0.5#011validation-rmse:0.25" for i in range(len(numbered))]
    assert numbered == expected  # none lost, repeated or reordered
    # Every line the host captured is stored, including the backlog left when the process exited.
    captured = (tmp_path / "home" / "jobs" / "chatty" / "1" / "algo-1.agent" / "output.log").read_text()
    assert sum(1 for line in captured.splitlines() if "\t[" in line) == len(numbered)


def _wait_for_stored_lines(tp: TrainPlane, name: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    stored, last_id = 0, 0
    while time.monotonic() < deadline:
        events = tp.log_events(name, after_id=last_id)
        if events:
            stored, last_id = stored + len(events), events[-1].id
        if stored >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name}: only {stored} lines stored after {timeout} s")


def _all_messages(tp: TrainPlane, name: str) -> list[str]:
    """Every stored line, page by page (a read returns a bounded number of events)."""
    messages: list[str] = []
    last_id = 0
    while events := tp.log_events(name, after_id=last_id):
        messages += [e.message for e in events]
        last_id = events[-1].id
    return messages
