"""The background loop's ticks scan the queue and run idle participants only when something changed or
the idle scan interval passed; participants with live work run on every tick; direct ticks scan fully."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trainplane.control import reconciler as reconciler_module
from trainplane.control.reconciler import Reconciler
from trainplane.platform import build_platform
from trainplane.settings import load_settings


class Recorder:
    def __init__(self, busy: bool) -> None:
        self.busy = busy
        self.calls = 0

    def tick(self) -> bool:
        self.calls += 1
        return self.busy


def loop_ticks(reconciler: Reconciler, times: int) -> None:
    """Ticks as the background loop makes them."""
    for _ in range(times):
        reconciler.tick(scan=False)


@pytest.fixture
def reconciler(tmp_path: Path) -> Iterator[Reconciler]:
    platform = build_platform(load_settings({"TRAINPLANE_HOME": str(tmp_path / "home")}))
    assert platform.reconciler is not None
    yield platform.reconciler
    platform.reconciler.close()


def test_an_idle_participant_runs_on_changes_and_idle_scans_only(
    reconciler: Reconciler, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reconciler_module, "IDLE_SCAN_SECONDS", 3600.0)  # no idle scan comes due
    idle = Recorder(busy=False)
    reconciler.add_participant(idle)
    reconciler.tick(scan=False)  # a new control plane scans once
    assert idle.calls == 1
    loop_ticks(reconciler, 5)
    assert idle.calls == 1  # nothing changed, the idle scan is not due
    reconciler.wake()  # e.g. a job was created or stopped in this process
    reconciler.tick(scan=False)
    assert idle.calls == 2
    monkeypatch.setattr(reconciler_module, "IDLE_SCAN_SECONDS", 0.0)
    reconciler.wake()
    loop_ticks(reconciler, 3)  # the next idle scan is due at once from here on (how changes made
    assert idle.calls == 5  # by other processes are seen)


def test_a_participant_with_live_work_runs_on_every_tick_until_it_has_none(reconciler: Reconciler) -> None:
    busy = Recorder(busy=True)
    reconciler.add_participant(busy)
    loop_ticks(reconciler, 5)
    assert busy.calls == 5
    busy.busy = False
    loop_ticks(reconciler, 3)  # the first reports that its work ended
    assert busy.calls == 6


def test_a_direct_tick_always_scans(reconciler: Reconciler) -> None:
    idle = Recorder(busy=False)
    reconciler.add_participant(idle)
    for _ in range(3):
        reconciler.tick()
    assert idle.calls == 3
