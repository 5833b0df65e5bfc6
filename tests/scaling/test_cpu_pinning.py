"""CPU pinning on the local executor: each host runs on cores of its own, sized from its vCPUs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jobs_helpers import script_job
from trainplane import TrainPlane
from trainplane.errors import ConfigurationError
from trainplane.executors.cpus import CoreActivity, CpuAllocator, machine_cores
from trainplane.settings import load_settings


def test_hosts_on_an_idle_machine_get_disjoint_cores_in_order() -> None:
    cpus = CpuAllocator([0, 1, 2, 3])
    assert cpus.allocate("a", 2) == [0, 1]
    assert cpus.allocate("b", 1) == [2]
    assert cpus.allocate("c", 1) == [3]
    assert cpus.load() == {0: 1, 1: 1, 2: 1, 3: 1}


def test_oversubscription_shrinks_a_hosts_share_and_the_machine_caps_it() -> None:
    cpus = CpuAllocator([0, 1], oversubscription=2.0)
    assert cpus.cores_for(2) == 1  # two ml.m5.large on 2 cores: one core each
    assert cpus.cores_for(1) == 1  # never less than one core
    assert cpus.cores_for(96) == 2  # never more than the machine has
    assert CpuAllocator([0, 1, 2]).cores_for(3) == 3


def test_more_hosts_than_cores_spread_evenly() -> None:
    cpus = CpuAllocator([0, 1])
    sets = [cpus.allocate(f"host-{i}", 1) for i in range(4)]
    assert sets == [[0], [1], [0], [1]]
    assert cpus.load() == {0: 2, 1: 2}


def test_a_released_set_is_handed_out_again_and_the_same_key_keeps_its_set() -> None:
    cpus = CpuAllocator([0, 1])
    assert cpus.allocate("a", 1) == [0]
    assert cpus.allocate("a", 1) == [0]  # a relaunch of the same host: no second share
    assert cpus.load() == {0: 1, 1: 0}
    cpus.release("a")
    assert cpus.load() == {0: 0, 1: 0}
    assert cpus.allocate("b", 1) == [0]


def test_claim_relearns_a_persisted_set_after_a_restart() -> None:
    cpus = CpuAllocator([0, 1, 2])
    cpus.claim("running", [1, 7])  # core 7 is not this machine's (the record came from elsewhere)
    assert cpus.load() == {0: 0, 1: 1, 2: 0}
    assert cpus.allocate("new", 2) == [0, 2]


def test_among_equally_loaded_cores_the_machine_s_least_busy_win() -> None:
    # Another control plane's host keeps cores 0 and 1 busy: this one's first host goes beside it.
    cpus = CpuAllocator([0, 1, 2, 3], activity=lambda: {0: 0.97, 1: 0.9, 2: 0.02, 3: 0.3})
    assert cpus.allocate("a", 1) == [2]
    assert cpus.allocate("b", 1) == [3]
    assert cpus.allocate("c", 2) == [0, 1]


def test_core_activity_reports_fractions_for_every_core() -> None:
    activity = CoreActivity()
    sum(i * i for i in range(200_000))  # some work between the samples
    busy = activity()
    assert len(busy) == psutil.cpu_count()
    assert all(0.0 <= fraction <= 1.0 for fraction in busy.values())


def test_an_allocator_needs_cores() -> None:
    with pytest.raises(ValueError, match="at least one core"):
        CpuAllocator([])


def test_pinning_is_on_by_default_and_the_setting_is_checked(tmp_path: Path) -> None:
    assert load_settings({}, home=tmp_path).pin_cpus is True
    assert load_settings({"TRAINPLANE_PIN_CPUS": "0"}, home=tmp_path).pin_cpus is False
    with pytest.raises(ConfigurationError, match="TRAINPLANE_PIN_CPUS must be true or false"):
        load_settings({"TRAINPLANE_PIN_CPUS": "sometimes"}, home=tmp_path)


AFFINITY = """
    import json, os
    print("affinity=" + json.dumps(sorted(os.sched_getaffinity(0))), flush=True)
"""


def _affinities(tp: TrainPlane, name: str) -> dict[str, set[int]]:
    """Each host's CPU affinity, as its training script saw it."""
    return {
        e.stream.split("/")[1].rsplit("-", 1)[0]: set(json.loads(e.message.split("affinity=")[1]))
        for e in tp.log_events(name)
        if "affinity=" in e.message
    }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def _client(home: Path, **extra: str) -> TrainPlane:
    return TrainPlane(environ={"TRAINPLANE_HOME": str(home), "TRAINPLANE_OVERSUBSCRIPTION": "2", **extra})


@pytest.fixture
def tp(home: Path) -> Iterator[TrainPlane]:
    with _client(home) as client:
        yield client


@pytest.mark.slow
def test_two_hosts_each_run_on_a_core_of_their_own(tp: TrainPlane, tmp_path: Path) -> None:
    cores = machine_cores()
    if len(cores) < 2:
        pytest.fail("this test needs a machine with at least 2 cores")
    request = script_job("pinned", tmp_path, AFFINITY)
    request["ResourceConfig"] = {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}
    tp.create_training_job(**request)
    description = tp.wait_for_training_job("pinned", timeout=120)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    seen = _affinities(tp, "pinned")
    share = CpuAllocator(cores, 2.0).cores_for(2)
    sets = [seen["algo-1"], seen["algo-2"]]
    assert all(len(s) == share for s in sets)
    assert not sets[0] & sets[1]
    records = tp._platform.store.attempts("pinned")[-1].hosts
    assert {r["host"]: set(r["cpu_set"]) for r in records} == seen  # what a restarted control plane re-claims


@pytest.mark.slow
def test_pinning_can_be_turned_off(home: Path, tmp_path: Path) -> None:
    with _client(home, TRAINPLANE_PIN_CPUS="0") as tp:
        tp.create_training_job(**script_job("free", tmp_path, AFFINITY))
        description = tp.wait_for_training_job("free", timeout=120)
        assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
        assert _affinities(tp, "free")["algo-1"] == set(machine_cores())
        assert "cpu_set" not in tp._platform.store.attempts("free")[-1].hosts[0]
