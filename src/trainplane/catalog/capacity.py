"""Local capacity: what this machine offers and whether an instance type fits on it."""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

from trainplane.catalog.instances import InstanceType


@dataclass(frozen=True)
class Resources:
    cpus: float
    memory_gib: float
    gpus: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpus + other.cpus, self.memory_gib + other.memory_gib, self.gpus + other.gpus)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.cpus - other.cpus, self.memory_gib - other.memory_gib, self.gpus - other.gpus)

    def covers(self, need: Resources) -> bool:
        # A small epsilon keeps float sums of memory from refusing an exact fit.
        return (
            need.cpus <= self.cpus + 1e-9
            and need.memory_gib <= self.memory_gib + 1e-9
            and need.gpus <= self.gpus
        )


def demand(instance: InstanceType, count: int) -> Resources:
    return Resources(instance.vcpus * count, instance.memory_gib * count, instance.gpus * count)


def machine_resources(
    cpus: int | None = None, memory_gib: float | None = None, gpus: int = 0, oversubscription: float = 1.0
) -> Resources:
    """This machine's capacity for jobs; CPUs and memory scaled by the oversubscription factor.

    GPUs are never oversubscribed: a GPU is handed to one host at a time.
    """
    real_cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    real_memory = memory_gib if memory_gib is not None else psutil.virtual_memory().total / 2**30
    return Resources(real_cpus * oversubscription, real_memory * oversubscription, gpus)


def shortfall(
    instance_type: str,
    count: int,
    need: Resources,
    offer: Resources,
    *,
    cluster: bool,
    oversubscription: float,
) -> str:
    """Why ``count`` x ``instance_type`` does not fit ``offer`` (this machine, or a Ray cluster), and
    what would help: oversubscription stretches CPUs and memory only, never GPUs."""
    offers = f"{offer.cpus:g} vCPUs, {offer.memory_gib:.1f} GiB and {offer.gpus} GPUs"
    if cluster:  # capacity is the cluster's; oversubscription is local only
        where = f"the Ray cluster offers {offers}. Choose a smaller instance type or add nodes."
    elif need.gpus > offer.gpus:
        where = (
            f"this machine offers {offers}. Choose an instance type with at most {offer.gpus} GPUs "
            "(GPUs are never oversubscribed; TRAINPLANE_GPUS names the ones to use)."
        )
    else:
        where = (
            f"this machine offers {offers} (oversubscription {oversubscription:g}). Choose a smaller "
            "instance type or allow oversubscription (--oversubscription / TRAINPLANE_OVERSUBSCRIPTION)."
        )
    return (
        f"{count} x {instance_type} needs {need.cpus:g} vCPUs, {need.memory_gib:g} GiB memory and "
        f"{need.gpus} GPUs; {where}"
    )
