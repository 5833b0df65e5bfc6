"""The strategy protocol: frozen trial snapshots in, decisions out.

The control loop owns every side effect. It hands a strategy a ``History`` (an immutable snapshot of the
tuning job's trials, in launch order) and gets back a configuration to launch, or ``None`` when the
strategy has nothing more to propose. ``should_stop`` is the early-stopping decision for a running
trial; the default never stops, so only strategies that stop (Hyperband) override it and the control
loop needs no ``isinstance`` checks.

Randomness is a pure function of ``(seed, number of suggestions made)``: every ``suggest`` draws from a
fresh generator seeded with that pair. So ``state_dict()`` is two integers (plus whatever a strategy
adds, all JSON), and a strategy restored from it proposes the same future sequence given the same
histories, without pickling generator internals.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np

from trainplane.tuning.space import SearchSpace


class TrialStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"

    def is_terminal(self) -> bool:
        return self in (TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.STOPPED)


class Direction(StrEnum):
    MINIMIZE = "Minimize"
    MAXIMIZE = "Maximize"

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` is strictly better than ``b``."""
        return a < b if self is Direction.MINIMIZE else a > b


@dataclass(frozen=True)
class Trial:
    """A snapshot of one child training job.

    ``intermediate`` holds the objective metric's value at each epoch (one entry per report), so its
    length is the resource consumed. ``objective`` is the final value; for a stopped trial it is the last
    value it reported. ``finished_at`` (any monotonic number) orders results for completion criteria.
    ``cost`` (dollars, or any positive unit) is what the trial cost to run, for cost-aware strategies.
    """

    id: str
    config: Mapping[str, str]
    status: TrialStatus
    objective: float | None = None
    intermediate: tuple[float, ...] = ()
    finished_at: float | None = None
    cost: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", TrialStatus(self.status))
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        object.__setattr__(self, "intermediate", tuple(float(v) for v in self.intermediate))

    @property
    def is_active(self) -> bool:
        """Launched (or about to be) and not finished: its result is still to come."""
        return self.status in (TrialStatus.PENDING, TrialStatus.RUNNING)

    @property
    def has_result(self) -> bool:
        """Finished with an objective value the strategies may learn from (completed or stopped)."""
        return self.status in (TrialStatus.COMPLETED, TrialStatus.STOPPED) and self.objective is not None


@dataclass(frozen=True)
class History:
    trials: tuple[Trial, ...] = ()
    direction: Direction = Direction.MINIMIZE
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "trials", tuple(self.trials))
        object.__setattr__(self, "direction", Direction(self.direction))
        self._index.update({t.id: i for i, t in enumerate(self.trials)})

    def position(self, trial_id: str) -> int | None:
        """Launch position of a trial in this history, ``None`` if absent."""
        return self._index.get(trial_id)

    def with_results(self) -> tuple[Trial, ...]:
        return tuple(t for t in self.trials if t.has_result)

    def active(self) -> tuple[Trial, ...]:
        return tuple(t for t in self.trials if t.is_active)

    def best(self) -> Trial | None:
        best: Trial | None = None
        best_value = 0.0
        for t in self.with_results():
            if t.objective is not None and (best is None or self.direction.better(t.objective, best_value)):
                best, best_value = t, t.objective
        return best

    def loss(self, value: float) -> float:
        """``value`` turned into something to minimise."""
        return value if self.direction is Direction.MINIMIZE else -value


class Strategy(ABC):
    """Base class of the search strategies (Random, Grid, Bayesian, Hyperband)."""

    def __init__(self, space: SearchSpace, *, seed: int | None = None) -> None:
        self.space = space
        # An unseeded strategy still needs a fixed seed so that a restored copy continues identically.
        self._seed = int(seed) if seed is not None else secrets.randbits(32)
        self._suggestions = 0

    @abstractmethod
    def suggest(self, history: History) -> dict[str, str] | None:
        """The next configuration to launch, or ``None`` when nothing remains to propose."""

    def should_stop(self, trial: Trial, history: History) -> bool:
        """Whether the running ``trial`` should be stopped early. Default: never."""
        return False

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state; ``load_state_dict`` on a fresh instance resumes the sequence."""
        return {"seed": self._seed, "suggestions": self._suggestions}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._seed = int(state["seed"])
        self._suggestions = int(state["suggestions"])

    def _next_rng(self) -> np.random.Generator:
        """A generator for this suggestion only, derived from (seed, count); advances the count."""
        rng = np.random.default_rng([self._seed, self._suggestions])
        self._suggestions += 1
        return rng
