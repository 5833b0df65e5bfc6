"""GPUs on this machine: the inventory, and disjoint per-host allocations for the local executor.

The inventory comes from ``nvidia-smi --list-gpus`` (one ``GPU <i>: ...`` line per device) unless the
settings name the ids (``TRAINPLANE_GPUS=0,1,2,3``, also how tests fake a GPU machine). Each host of an
attempt whose instance type has GPUs gets that many ids of its own, exported as CUDA_VISIBLE_DEVICES.

Allocation is bookkeeping over the executor's host records: :class:`GpuScheduling` wraps an executor,
assigns ids at launch, writes them into the host record (so a restarted control plane re-learns them
the first time it polls that host), and frees them when the host is seen exited or is killed. Capacity
(whether enough GPUs are free) is the reconciler's job, from ``machine_resources(gpus=...)``.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from trainplane.executors.base import Executor, HostLaunch, HostStatus


def parse_list_gpus(text: str) -> list[int]:
    """Device indexes from ``nvidia-smi --list-gpus`` output (lines ``GPU 0: NVIDIA H100 (UUID: ...)``)."""
    ids = []
    for line in text.splitlines():
        head, _, _ = line.partition(":")
        if head.startswith("GPU ") and head[4:].strip().isdigit():
            ids.append(int(head[4:].strip()))
    return ids


def discover(
    configured: Sequence[int] | None = None, run: Callable[[list[str]], str] | None = None
) -> list[int]:
    """The GPU ids jobs may use: ``configured`` when given, else ``nvidia-smi``'s list (none without it)."""
    if configured is not None:
        return sorted(set(configured))
    if run is None:
        if shutil.which("nvidia-smi") is None:
            return []
        run = _run_nvidia_smi
    try:
        return parse_list_gpus(run(["nvidia-smi", "--list-gpus"]))
    except (OSError, subprocess.SubprocessError):
        return []


def _run_nvidia_smi(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=True).stdout


class NotEnoughGpus(RuntimeError):
    pass


class GpuAllocator:
    """Hands out disjoint GPU ids; thread-safe. Ids are owned by a key (a host's agent_dir)."""

    def __init__(self, inventory: Sequence[int]) -> None:
        self.inventory = list(inventory)
        self._owner: dict[int, str] = {}
        self._lock = threading.Lock()

    def free_ids(self) -> list[int]:
        with self._lock:
            return [g for g in self.inventory if g not in self._owner]

    def allocate(self, key: str, count: int) -> list[int]:
        with self._lock:
            mine = [g for g, owner in self._owner.items() if owner == key]
            if len(mine) >= count:
                return sorted(mine)[:count]
            free = [g for g in self.inventory if g not in self._owner]
            if len(free) < count - len(mine):
                raise NotEnoughGpus(f"{count} GPUs wanted, {len(free)} free of {len(self.inventory)}")
            for gpu in free[: count - len(mine)]:
                self._owner[gpu] = key
            return sorted(g for g, owner in self._owner.items() if owner == key)

    def claim(self, key: str, ids: Sequence[int]) -> None:
        """Re-learn an allocation from a persisted record (after a control-plane restart)."""
        with self._lock:
            for gpu in ids:
                if gpu in self.inventory:
                    self._owner.setdefault(gpu, key)

    def release(self, key: str) -> None:
        with self._lock:
            for gpu in [g for g, owner in self._owner.items() if owner == key]:
                del self._owner[gpu]


class GpuScheduling:
    """An executor wrapper that gives each GPU host its own CUDA_VISIBLE_DEVICES set."""

    def __init__(self, inner: Executor, allocator: GpuAllocator) -> None:
        self.inner = inner
        self.allocator = allocator
        self.name = inner.name

    def launch(self, hosts: list[HostLaunch]) -> list[dict[str, Any]]:
        planned: list[HostLaunch] = []
        try:
            for launch in hosts:
                wanted = int(launch.spec.get("context", {}).get("num_gpus") or 0)
                ids = self.allocator.allocate(str(launch.agent_dir), wanted) if wanted else []
                planned.append(dataclasses.replace(launch, gpus=ids))
        except NotEnoughGpus:
            for launch in hosts:
                self.allocator.release(str(launch.agent_dir))
            raise
        records = self.inner.launch(planned)
        pairs = zip(records, planned, strict=True)
        return [{**record, "gpus": list(launch.gpus)} for record, launch in pairs]

    def status(self, record: dict[str, Any]) -> HostStatus:
        status = self.inner.status(record)
        if status.alive:
            self.allocator.claim(record["agent_dir"], record.get("gpus") or [])
        else:
            self.allocator.release(record["agent_dir"])
        return status

    def probe(self, record: dict[str, Any]) -> Hashable | None:
        return self.inner.probe(record)

    def read_output(
        self, record: dict[str, Any], offset: int, max_lines: int | None = None
    ) -> tuple[list[tuple[float, str]], int]:
        return self.inner.read_output(record, offset, max_lines)

    def terminate(self, record: dict[str, Any]) -> None:
        self.inner.terminate(record)

    def kill(self, record: dict[str, Any]) -> None:
        self.inner.kill(record)
        self.allocator.release(record["agent_dir"])

    def kill_unrecorded(self, hosts: list[HostLaunch]) -> None:
        self.inner.kill_unrecorded(hosts)
        for launch in hosts:
            self.allocator.release(str(launch.agent_dir))
