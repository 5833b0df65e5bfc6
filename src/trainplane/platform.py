"""Wiring: settings -> store, service, executor, reconciler. The one place that builds the object graph."""

from __future__ import annotations

from dataclasses import dataclass

from trainplane.catalog import capacity
from trainplane.clock import Clock, SystemClock
from trainplane.control.reconciler import Reconciler
from trainplane.control.tuner import Tuner
from trainplane.errors import ConfigurationError
from trainplane.executors.base import Executor
from trainplane.service.training import TrainingService
from trainplane.service.tuning import TuningService
from trainplane.settings import Settings
from trainplane.store import Store, TuningStore, open_store


@dataclass
class Platform:
    settings: Settings
    store: Store
    training: TrainingService
    reconciler: Reconciler | None
    tuning: TuningService

    def close(self) -> None:
        if self.reconciler is not None:
            self.reconciler.close()
            close_executor = getattr(self.reconciler.executor, "close", None)
            if close_executor is not None:
                close_executor()
        self.store.engine.dispose()


def build_platform(settings: Settings, *, clock: Clock | None = None, control: bool = True) -> Platform:
    """Open the store and, when ``control`` is set, a reconciler that runs jobs on this machine.

    Read-only callers (``jobs list``) pass ``control=False``: they see the store without driving jobs.
    """
    clock = clock or SystemClock()
    settings.home.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.database_url)
    executor: Executor | None = None
    if control:
        executor, machine = build_executor(settings)
    else:  # no executor: only configured GPUs count (no nvidia-smi, no cluster connection)
        machine = _local_machine(settings, list(settings.gpus or []))
    training = TrainingService(store, settings, clock, machine=machine)
    reconciler = None
    if executor is not None:
        reconciler = Reconciler(store, settings, clock, executor, machine)
        training.set_on_change(reconciler.wake)
    tuning_store = TuningStore(store)
    tuning = TuningService(store, tuning_store, training, settings, clock)
    training.register_resource_lookup(
        lambda kind, name: (
            kind == "hyper-parameter-tuning-job" and tuning_store.get_tuning_job(name) is not None
        )
    )
    training.register_tag_check(tuning.check_added_tags)
    if reconciler is not None:
        reconciler.add_participant(Tuner(tuning, clock, reconciler.id))
        tuning.set_on_change(reconciler.wake)
    return Platform(settings, store, training, reconciler, tuning)


def _local_machine(settings: Settings, gpus: list[int]) -> capacity.Resources:
    return capacity.machine_resources(
        settings.machine_cpus,
        settings.machine_memory_gib,
        gpus=len(gpus),
        oversubscription=settings.oversubscription,
    )


def build_executor(settings: Settings) -> tuple[Executor, capacity.Resources]:
    """The executor named by ``settings.executor`` and the capacity jobs are admitted against.

    local: this machine's CPUs and memory (times the oversubscription factor) and its GPUs, each GPU
    handed to one host at a time. ray: the cluster's total resources, read when connecting; Ray itself
    decides placement, so a job admitted here may still wait for its placement group.
    """
    if settings.executor == "local":
        from trainplane.executors import gpus
        from trainplane.executors.cpus import CoreActivity, CpuAllocator, machine_cores
        from trainplane.executors.local import LocalExecutor

        inventory = gpus.discover(settings.gpus)
        pinning = None
        if settings.pin_cpus:
            pinning = CpuAllocator(machine_cores(), settings.oversubscription, CoreActivity())
        local: Executor = LocalExecutor(cpus=pinning, spares=settings.spare_agents)
        if inventory:
            local = gpus.GpuScheduling(local, gpus.GpuAllocator(inventory))
        return local, _local_machine(settings, inventory)
    if settings.executor == "ray":
        from trainplane.executors.ray import RayExecutor

        ray_executor = RayExecutor(settings)
        return ray_executor, ray_executor.cluster_resources()
    raise ConfigurationError(f"Unknown executor {settings.executor!r}; choose 'local' or 'ray'.")
