"""Wiring: settings -> store, service, executor, reconciler. The one place that builds the object graph."""

from __future__ import annotations

from dataclasses import dataclass

from trainplane.catalog import capacity
from trainplane.clock import Clock, SystemClock
from trainplane.control.reconciler import Reconciler
from trainplane.control.tuner import Tuner
from trainplane.errors import ConfigurationError
from trainplane.executors.local import LocalExecutor
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
        self.store.engine.dispose()


def build_platform(settings: Settings, *, clock: Clock | None = None, control: bool = True) -> Platform:
    """Open the store and, when ``control`` is set, a reconciler that runs jobs on this machine.

    Read-only callers (``jobs list``) pass ``control=False``: they see the store without driving jobs.
    """
    clock = clock or SystemClock()
    settings.home.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.database_url)
    machine = capacity.machine_resources(
        settings.machine_cpus, settings.machine_memory_gib, oversubscription=settings.oversubscription
    )
    training = TrainingService(store, settings, clock, machine=machine)
    reconciler = None
    if control:
        if settings.executor != "local":
            raise ConfigurationError(f"Unknown executor {settings.executor!r}; this build supports 'local'.")
        reconciler = Reconciler(store, settings, clock, LocalExecutor(), machine)
        training.set_on_change(reconciler.wake)
    tuning = TuningService(store, TuningStore(store), training, settings, clock)
    if reconciler is not None:
        reconciler.add_participant(Tuner(tuning, clock, reconciler.id))
        tuning.set_on_change(reconciler.wake)
    return Platform(settings, store, training, reconciler, tuning)
