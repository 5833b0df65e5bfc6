"""The instance-type catalog: vCPUs, memory, GPUs and on-demand price per SageMaker training type.

Facts come from ``instances.csv`` (a copy of the shared reference). CPU-only types that SageMaker
accepts but the CSV lacks (m4, m7i, c7i, r7i, t3, ...) get a profile derived from their name: the size
gives the vCPU count (large = 2, xlarge = 4, Nxlarge = 4N) and the family letter the memory per vCPU
(c: 2 GiB, m/t: 4 GiB, r: 8 GiB). Accelerated types missing from the CSV stay unknown rather than guessed.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: float
    gpus: int = 0
    gpu_model: str | None = None
    price_per_hour: float | None = None
    derived: bool = False
    neuron_cores: int = 0  # AWS Trainium / Inferentia: SM_NUM_NEURONS on SageMaker; never CUDA GPUs

    @property
    def family(self) -> str:
        return self.name.split(".")[1]

    @property
    def has_instance_store(self) -> bool:
        """Whether the type trains on local NVMe storage, where SageMaker ignores VolumeSizeInGB."""
        return has_instance_store(self.name)


# The catalog counts Neuron chips in gpu_count; SageMaker reports their cores (gpu_specs.csv: Trainium
# chips hold two NeuronCore-v2).
NEURON_CORES_PER_CHIP = {"trainium": 2}
_MEMORY_PER_VCPU = {"c": 2.0, "m": 4.0, "t": 4.0, "r": 8.0}
_SIZE = re.compile(r"^ml\.([a-z]+)(\d+)([a-z]*)\.(\d*)(medium|large|xlarge)$")


def _derive(name: str) -> InstanceType | None:
    match = _SIZE.match(name)
    if match is None:
        return None
    letter, _, _, multiplier, size = match.groups()
    memory_per_vcpu = _MEMORY_PER_VCPU.get(letter)
    if memory_per_vcpu is None:
        return None
    vcpus = {"medium": 2, "large": 2, "xlarge": 4}[size] * (int(multiplier) if multiplier else 1)
    memory = 4.0 if name == "ml.t3.medium" else vcpus * memory_per_vcpu
    return InstanceType(name=name, vcpus=vcpus, memory_gib=memory, derived=True)


@functools.cache
def _csv_types() -> dict[str, InstanceType]:
    text = resources.files("trainplane.catalog").joinpath("instances.csv").read_text()
    types: dict[str, InstanceType] = {}
    for row in csv.DictReader(text.splitlines()):
        price = row["price_usd_per_hour_on_demand_us_east_1"].strip()
        accelerators = int(row["gpu_count"] or 0)
        neuron = row["accelerator"].strip() in NEURON_CORES_PER_CHIP
        types[row["instance_type"]] = InstanceType(
            name=row["instance_type"],
            vcpus=int(row["vcpu"]),
            memory_gib=float(row["memory_gib"]),
            gpus=0 if neuron else accelerators,
            gpu_model=None if neuron else row["gpu_model"] or None,
            price_per_hour=float(price) if price else None,
            neuron_cores=accelerators * NEURON_CORES_PER_CHIP[row["accelerator"].strip()] if neuron else 0,
        )
    return types


# Families with local NVMe instance storage: the "d" families (m5d, g4dn, p3dn, p4d, ...) and the
# accelerated families that ship with it: SageMaker ignores VolumeSizeInGB on these.
_INSTANCE_STORE = re.compile(r"^ml\.(?:[a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|p5en|trn1|trn1n|trn2)\.")


def has_instance_store(name: str) -> bool:
    return _INSTANCE_STORE.match(name) is not None


def lookup(name: str) -> InstanceType | None:
    """The catalog entry for a SageMaker training instance type, or None when unknown."""
    known = _csv_types().get(name)
    return known if known is not None else _derive(name)


def all_types() -> list[InstanceType]:
    return sorted(_csv_types().values(), key=lambda t: t.name)
