"""Where spot interruptions come from: a small protocol and its scripted and random implementations.

Sources are pure and stateless: every answer is a function of the constructor arguments and the
question, so the control loop may ask again (after a restart, from another thread) and get the same
answer. Times are *job-relative* seconds (``clock.now() - job_start``), so a source never needs a clock.

How the control loop uses a source, per attempt ``k`` (0-based)::

    start = source.capacity_from(t)              # None: capacity never returns -> MaxWaitTimeExceeded
    notice = source.next_interruption(k, start)  # None: this attempt runs undisturbed
    ... run; deliver the notice (SIGTERM) once ``after_seconds`` have passed since ``start`` or the job
    reports progress >= ``at_step``; then t = interrupted_at + notice.outage_seconds
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, Protocol

from trainplane.spot.rates import interruption_rate_per_hour


@dataclass(frozen=True)
class Interruption:
    """The interruption notice one attempt will get: after some seconds or at some step, never both."""

    after_seconds: float | None = None  # since the attempt started
    at_step: int | None = None  # when the job reports this step/round (or a later one)
    outage_seconds: float = 0.0  # no capacity for this long after the notice

    def __post_init__(self) -> None:
        if (self.after_seconds is None) == (self.at_step is None):
            raise ValueError("an interruption needs exactly one of after_seconds and at_step")
        if self.after_seconds is not None and not self.after_seconds >= 0:
            raise ValueError(f"after_seconds must be >= 0, got {self.after_seconds}")
        if not self.outage_seconds >= 0:
            raise ValueError(f"outage_seconds must be >= 0, got {self.outage_seconds}")


class InterruptionSource(Protocol):
    def next_interruption(self, attempt: int, started_at: float) -> Interruption | None:
        """The notice for attempt number ``attempt`` (0-based) that started running at ``started_at``."""

    def capacity_from(self, t: float) -> float | None:
        """The earliest time >= ``t`` with spot capacity available; None if it never returns."""


def capacity_available(source: InterruptionSource, t: float) -> bool:
    return source.capacity_from(t) == t


class NoInterruptions:
    """On-demand behaviour: capacity is always there and nothing interrupts."""

    def next_interruption(self, attempt: int, started_at: float) -> Interruption | None:
        return None

    def capacity_from(self, t: float) -> float | None:
        return t


@dataclass(frozen=True)
class InterruptionAt:
    """One scripted interruption: ``seconds`` after the job started, or when it reports ``step``."""

    seconds: float | None = None
    step: int | None = None
    outage_seconds: float = 0.0

    def __post_init__(self) -> None:
        if (self.seconds is None) == (self.step is None):
            raise ValueError("InterruptionAt needs exactly one of seconds= and step=")
        if self.seconds is not None and not self.seconds > 0:
            raise ValueError(f"interruption time must be > 0 seconds after job start, got {self.seconds}")
        if self.step is not None and self.step < 1:
            raise ValueError(f"interruption step must be >= 1, got {self.step}")
        if not self.outage_seconds >= 0:
            raise ValueError(f"outage_seconds must be >= 0, got {self.outage_seconds}")


class ScheduledInterruptions:
    """A script: item ``k`` interrupts attempt ``k``; once the script runs out, attempts run undisturbed.

    Pairing items with attempts (rather than matching times) keeps step items meaningful: a job that
    restarts without a checkpoint counts steps from zero again, and must still meet each item once.
    A time item whose moment has already passed when its attempt starts (a long outage before it)
    fires at once, so the script's number of interruptions is always honoured.
    """

    def __init__(self, items: Sequence[InterruptionAt]) -> None:
        times = [item.seconds for item in items if item.seconds is not None]
        if any(later <= earlier for earlier, later in pairwise(times)):
            raise ValueError(f"scheduled interruption times must be strictly increasing, got {times}")
        self.items: tuple[InterruptionAt, ...] = tuple(items)

    def next_interruption(self, attempt: int, started_at: float) -> Interruption | None:
        if attempt >= len(self.items):
            return None
        item = self.items[attempt]
        if item.seconds is None:  # a step item (InterruptionAt guarantees one of the two)
            return Interruption(at_step=item.step, outage_seconds=item.outage_seconds)
        after = max(0.0, item.seconds - started_at)
        return Interruption(after_seconds=after, outage_seconds=item.outage_seconds)

    def capacity_from(self, t: float) -> float | None:
        return t  # outages travel with each Interruption


@dataclass(frozen=True)
class Outage:
    """How long capacity stays away after an interruption: a fixed time or exponential with that mean."""

    mean_seconds: float = 0.0
    distribution: Literal["fixed", "exponential"] = "exponential"

    def __post_init__(self) -> None:
        if not self.mean_seconds >= 0:
            raise ValueError(f"outage mean_seconds must be >= 0, got {self.mean_seconds}")
        if self.distribution not in ("fixed", "exponential"):
            raise ValueError(
                f"outage distribution must be 'fixed' or 'exponential', got {self.distribution!r}"
            )

    def sample(self, rng: random.Random) -> float:
        if self.mean_seconds == 0 or self.distribution == "fixed":
            return self.mean_seconds
        return rng.expovariate(1.0 / self.mean_seconds)


class PoissonInterruptions:
    """Notices arrive as a Poisson process of ``rate_per_hour`` while an attempt runs.

    Each attempt draws from its own generator seeded by ``(seed, attempt)``, so answers do not depend on
    how often or in which order the loop asks. The process is memoryless, so a fresh draw per attempt is
    the same process as one continuous stream.
    """

    def __init__(self, rate_per_hour: float, seed: int, outage: Outage | None = None) -> None:
        if not (rate_per_hour >= 0 and math.isfinite(rate_per_hour)):
            raise ValueError(f"rate_per_hour must be a finite number >= 0, got {rate_per_hour}")
        self.rate_per_hour = float(rate_per_hour)
        self.seed = seed
        self.outage = outage or Outage()

    @classmethod
    def for_instance_type(
        cls, instance_type: str, seed: int, instance_count: int = 1, outage: Outage | None = None
    ) -> PoissonInterruptions:
        # A cluster is interrupted when any node is; nodes are treated as independent, so rates add.
        return cls(interruption_rate_per_hour(instance_type) * instance_count, seed, outage)

    def next_interruption(self, attempt: int, started_at: float) -> Interruption | None:
        if self.rate_per_hour == 0:
            return None
        # A string seed is hashed with SHA-512 by random.Random: stable across processes and versions.
        rng = random.Random(f"trainplane.spot.poisson:{self.seed}:{attempt}")
        after = rng.expovariate(self.rate_per_hour / 3600.0)
        return Interruption(after_seconds=after, outage_seconds=self.outage.sample(rng))

    def capacity_from(self, t: float) -> float | None:
        return t
