"""This machine's CPU cores, shared out among the local executor's hosts as instances own their vCPUs.

On SageMaker each instance has cores of its own. On one machine every host process could run on any
core, and the kernel moves them around: two hosts of one job then meet on a core while the other idles,
and a multi-host job, whose hosts wait for each other at every collective, runs at the pace of the
slowest placement. Measured with ``benchmarks/scaling.py`` (2 cores, one per host): XGBoost
efficiency 0.68-0.70 unpinned, 0.80-0.83 pinned.

Each host gets ``cores_for(vcpus)`` cores, the least loaded ones, as its CPU affinity (the agent sets
it for itself before starting the algorithm, so every process and thread of the host inherits it).
Load counts this executor's hosts first; among cores it loads equally, the ones the machine kept least
busy since the previous allocation win, so that a second control plane on the same machine (another
``trainplane train`` in another terminal) places its hosts beside the first one's instead of on them.
With an oversubscription factor a vCPU is worth ``1 / factor`` of a core (two ml.m5.large, 2 vCPUs
each, on 2 cores with factor 2: one core each). When hosts outnumber the cores, sets overlap, spread
as evenly as the counts allow. Allocations are keyed by the host's agent_dir and written into its host
record, so a restarted control plane re-learns them when it first polls a running host.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence

import psutil


def machine_cores() -> list[int]:
    """The cores this process may run on (its affinity, which a container or taskset may narrow)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


class CoreActivity:
    """How busy each core was since the previous call, from the kernel's per-core CPU times (cheap:
    one read of /proc/stat)."""

    def __init__(self) -> None:
        self._previous = psutil.cpu_times(percpu=True)

    def __call__(self) -> dict[int, float]:
        current = psutil.cpu_times(percpu=True)
        busy = {}
        for core, (before, now) in enumerate(zip(self._previous, current, strict=False)):
            total = sum(now) - sum(before)
            idle = (now.idle + getattr(now, "iowait", 0.0)) - (before.idle + getattr(before, "iowait", 0.0))
            busy[core] = 0.0 if total <= 0 else max(0.0, min(1.0, 1.0 - idle / total))
        self._previous = current
        return busy


def _quiet() -> dict[int, float]:
    return {}


class CpuAllocator:
    """Hands out sets of cores, least loaded first; thread-safe. A set is owned by a key (agent_dir).

    ``activity`` reports each core's recent busy fraction (default: none, ties go by core number);
    the platform passes a ``CoreActivity``.
    """

    def __init__(
        self,
        cores: Sequence[int],
        oversubscription: float = 1.0,
        activity: Callable[[], dict[int, float]] = _quiet,
    ) -> None:
        if not cores:
            raise ValueError("a CPU allocator needs at least one core")
        self.cores = sorted(set(cores))
        self.oversubscription = oversubscription
        self._activity = activity
        self._owned: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def cores_for(self, vcpus: int) -> int:
        """How many cores a host with ``vcpus`` vCPUs gets: at least one, at most the machine's."""
        share = math.ceil(vcpus / self.oversubscription - 1e-9)
        return max(1, min(share, len(self.cores)))

    def load(self) -> dict[int, int]:
        """How many hosts hold each core."""
        with self._lock:
            return self._load()

    def _load(self) -> dict[int, int]:
        load = dict.fromkeys(self.cores, 0)
        for owned in self._owned.values():
            for core in owned:
                if core in load:
                    load[core] += 1
        return load

    def allocate(self, key: str, vcpus: int) -> list[int]:
        """The cores of the host ``key`` (the same set again if it already has one)."""
        with self._lock:
            if key in self._owned:
                return list(self._owned[key])
            load = self._load()
            # Busy fractions in quarters: a core is "busy" from another process's work, not from noise.
            busy = {core: round(fraction * 4) for core, fraction in self._activity().items()}
            # Least loaded first, then least busy; then by number, so an idle machine fills 0, 1, 2, ...
            ranked = sorted(self.cores, key=lambda c: (load[c], busy.get(c, 0), c))
            chosen = sorted(ranked[: self.cores_for(vcpus)])
            self._owned[key] = chosen
            return list(chosen)

    def claim(self, key: str, cores: Sequence[int]) -> None:
        """Re-learn an allocation from a persisted host record (after a control-plane restart)."""
        with self._lock:
            self._owned.setdefault(key, [c for c in cores if c in self.cores])

    def release(self, key: str) -> None:
        with self._lock:
            self._owned.pop(key, None)
