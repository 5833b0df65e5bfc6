"""The background loop supervises a running attempt fully only when the executor's cheap probe shows a
change (a host exited, wrote a phase event or its result), when the attempt has urgent work, or once per
``STEADY_PASS_SECONDS``; a steady host costs the control plane a few syscalls per tick."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs_helpers import script_job
from trainplane.control import reconciler as reconciler_module
from trainplane.control.reconciler import Reconciler
from trainplane.control.supervision import Supervision
from trainplane.platform import Platform, build_platform
from trainplane.settings import load_settings

# Announces that it runs, then waits (at most 60 s, so that a failing test leaves nothing behind) for
# the test to let it finish.
WAITING = """
    import os, pathlib, time
    gate = pathlib.Path(os.environ["SM_HP_GATE"])
    (gate.parent / "running").write_text("yes")
    deadline = time.monotonic() + 60
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    print("released", flush=True)
"""


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    monkeypatch.setattr(reconciler_module, "STEADY_PASS_SECONDS", 3600.0)  # no steady pass comes due
    monkeypatch.setattr(reconciler_module, "IDLE_SCAN_SECONDS", 3600.0)
    platform = build_platform(load_settings({"TRAINPLANE_HOME": str(tmp_path / "home")}))
    yield platform
    platform.close()


def count_passes(reconciler: Reconciler, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    passes: list[str] = []
    supervise = reconciler._supervise

    def counted(sup: Supervision) -> None:
        passes.append(sup.job_name)
        supervise(sup)

    monkeypatch.setattr(reconciler, "_supervise", counted)
    return passes


def loop_ticks(reconciler: Reconciler, times: int) -> None:
    for _ in range(times):
        reconciler.tick(scan=False)


def start_waiting_job(platform: Platform, tmp_path: Path) -> Reconciler:
    reconciler = platform.reconciler
    assert reconciler is not None
    gate = tmp_path / "gate" / "open"
    gate.parent.mkdir()
    request = script_job("steady", tmp_path, WAITING, hyperparameters={"gate": f'"{gate}"'})
    platform.training.create_training_job(request)
    deadline = time.monotonic() + 60
    while not (gate.parent / "running").exists():
        assert time.monotonic() < deadline, "the job never started"
        reconciler.tick()
        time.sleep(0.02)
    time.sleep(0.2)  # the host's events file no longer grows: it waits in the script
    loop_ticks(reconciler, 2)  # one pass records the probe of the steady host; the flag of changes clears
    return reconciler


def test_a_steady_host_is_not_supervised_again_until_its_probe_changes(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconciler = start_waiting_job(platform, tmp_path)
    passes = count_passes(reconciler, monkeypatch)
    loop_ticks(reconciler, 5)
    assert passes == []  # nothing about the host changed
    assert platform.store.training_job_status("steady") == "InProgress"

    (tmp_path / "gate" / "open").write_text("go")
    deadline = time.monotonic() + 60
    while platform.store.training_job_status("steady") == "InProgress":
        assert time.monotonic() < deadline, "the finished host was never noticed"
        loop_ticks(reconciler, 1)
        reconciler.settle()
        time.sleep(0.02)
    assert passes  # its exit changed the probe: supervised without any steady pass due
    assert platform.store.training_job_status("steady") == "Completed"
    messages = [event.message for event in platform.store.log_events("steady")]
    assert any("released" in message for message in messages)


def test_urgent_work_and_changes_in_this_process_are_supervised_on_every_tick(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconciler = start_waiting_job(platform, tmp_path)
    passes = count_passes(reconciler, monkeypatch)
    sup = reconciler._supervised["steady"]
    sup.backlog = True  # the last ingest left lines waiting on a host
    loop_ticks(reconciler, 3)
    assert passes == ["steady"]  # the pass ingests the rest and clears the backlog
    loop_ticks(reconciler, 3)
    assert len(passes) == 1

    platform.training.stop_training_job({"TrainingJobName": "steady"})  # wakes the loop: a change
    loop_ticks(reconciler, 1)
    assert len(passes) == 2
    assert sup.term_sent_at is not None
    # The script exits on SIGTERM at once; until the attempt is collected every tick may supervise it.
    deadline = time.monotonic() + 60
    while platform.store.training_job_status("steady") != "Stopped":
        assert time.monotonic() < deadline, "the stop never finished"
        loop_ticks(reconciler, 1)
        reconciler.settle()
        time.sleep(0.02)


def test_the_steady_pass_comes_due_after_its_interval(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconciler = start_waiting_job(platform, tmp_path)
    passes = count_passes(reconciler, monkeypatch)
    loop_ticks(reconciler, 2)
    assert passes == []
    reconciler._supervised["steady"].next_pass = time.monotonic() - 1  # as if the interval had passed
    loop_ticks(reconciler, 2)
    assert passes == ["steady"]  # one pass, which schedules the next one an interval later
