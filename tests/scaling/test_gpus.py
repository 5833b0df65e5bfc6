"""GPU inventory, disjoint per-host allocation, and GPU capacity — on a fake inventory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs_helpers import script_job
from trainplane import TrainPlane
from trainplane.errors import TrainplaneError
from trainplane.executors.base import HostLaunch, HostStatus
from trainplane.executors.gpus import GpuAllocator, GpuScheduling, NotEnoughGpus, discover, parse_list_gpus
from trainplane.platform import build_platform
from trainplane.settings import load_settings

NVIDIA_SMI = """GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1b2c)
GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-3d4e)
"""


def test_inventory_comes_from_nvidia_smi_or_the_override() -> None:
    assert parse_list_gpus(NVIDIA_SMI) == [0, 1]
    assert discover(run=lambda argv: NVIDIA_SMI) == [0, 1]
    assert discover([3, 1, 1]) == [1, 3]
    assert load_settings({"TRAINPLANE_GPUS": "0,1,2,3"}, home="/tmp/x").gpus == (0, 1, 2, 3)


def test_allocations_are_disjoint_and_freed() -> None:
    allocator = GpuAllocator([0, 1, 2, 3])
    first = allocator.allocate("a", 2)
    second = allocator.allocate("b", 2)
    assert not set(first) & set(second) and len(first + second) == 4
    assert allocator.allocate("a", 2) == first  # idempotent per owner
    with pytest.raises(NotEnoughGpus):
        allocator.allocate("c", 1)
    allocator.release("a")
    assert allocator.allocate("c", 1) == [first[0]]


class FakeExecutor:
    name = "fake"

    def __init__(self) -> None:
        self.alive: dict[str, bool] = {}
        self.launched: list[HostLaunch] = []

    def launch(self, hosts: list[HostLaunch]) -> list[dict[str, Any]]:
        self.launched += hosts
        for launch in hosts:
            self.alive[str(launch.agent_dir)] = True
        return [{"host": h.host, "agent_dir": str(h.agent_dir)} for h in hosts]

    def status(self, record: dict[str, Any]) -> HostStatus:
        return HostStatus(self.alive[record["agent_dir"]], None, [])

    def probe(self, record: dict[str, Any]) -> None:
        return None

    def read_output(self, record: dict[str, Any], offset: int, max_lines: int | None = None) -> Any:
        return [], offset

    def terminate(self, record: dict[str, Any]) -> None: ...

    def kill(self, record: dict[str, Any]) -> None:
        self.alive[record["agent_dir"]] = False


def gpu_launch(name: str, gpus: int) -> HostLaunch:
    return HostLaunch(name, Path(name), Path(f"{name}.agent"), {"context": {"num_gpus": gpus}})


def test_scheduling_gives_hosts_their_own_gpus_and_frees_them_when_they_exit() -> None:
    inner = FakeExecutor()
    allocator = GpuAllocator([0, 1, 2, 3])
    executor = GpuScheduling(inner, allocator)
    records = executor.launch([gpu_launch("algo-1", 2), gpu_launch("algo-2", 2), gpu_launch("cpu", 0)])
    assert [r["gpus"] for r in records] == [[0, 1], [2, 3], []]
    assert [launch.gpus for launch in inner.launched] == [[0, 1], [2, 3], []]
    inner.alive["algo-1.agent"] = False
    assert not executor.status(records[0]).alive
    assert allocator.free_ids() == [0, 1]
    # A restarted control plane re-learns a live host's GPUs when it first polls it.
    fresh = GpuAllocator([0, 1, 2, 3])
    GpuScheduling(inner, fresh).status(records[1])
    assert fresh.free_ids() == [0, 1]


def test_platform_counts_configured_gpus_as_capacity(tmp_path: Path) -> None:
    settings = load_settings({"TRAINPLANE_GPUS": "0,1"}, home=tmp_path)
    platform = build_platform(settings)
    try:
        assert platform.reconciler is not None
        assert platform.reconciler.machine.gpus == 2
        assert isinstance(platform.reconciler.executor, GpuScheduling)
    finally:
        platform.close()


PRINT_GPUS = """
    import os
    env = os.environ
    print(f"gpus {env['SM_CURRENT_HOST']} {env['SM_NUM_GPUS']} {env['CUDA_VISIBLE_DEVICES']}")
"""


@pytest.fixture
def gpu_tp(tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {
        "TRAINPLANE_HOME": str(tmp_path / "home"),
        "TRAINPLANE_GPUS": "0,1",
        "TRAINPLANE_OVERSUBSCRIPTION": "4",
    }
    with TrainPlane(environ=environ) as client:
        yield client


@pytest.mark.slow
def test_gpu_hosts_see_disjoint_cuda_visible_devices(gpu_tp: TrainPlane, tmp_path: Path) -> None:
    request = script_job("gpu-job", tmp_path, PRINT_GPUS)
    request["ResourceConfig"] = {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 1}
    gpu_tp.create_training_job(**request)
    description = gpu_tp.wait_for_training_job("gpu-job", timeout=120)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    lines = sorted(e.message for e in gpu_tp.log_events("gpu-job") if e.message.startswith("gpus "))
    assert lines == ["gpus algo-1 1 0", "gpus algo-2 1 1"]


def test_more_gpus_than_the_machine_has_is_refused(gpu_tp: TrainPlane, tmp_path: Path) -> None:
    request = script_job("too-many-gpus", tmp_path, PRINT_GPUS)
    request["ResourceConfig"] = {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 3, "VolumeSizeInGB": 1}
    with pytest.raises(TrainplaneError, match="3 GPUs"):
        gpu_tp.create_training_job(**request)
