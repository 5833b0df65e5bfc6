"""Replaying recorded spot capacity: a trace says how many instances were up at each tick.

Trace files are the ``skypilot-org/spot-traces`` JSON format: ``{"metadata": {"gap_seconds": N},
"data": [n0, n1, ...], "prices": [...]?}`` where ``data[i]`` is the number of spot instances available
(or alive) during ``[i * N, (i + 1) * N)``. ``prices`` is ignored. Four such traces ship in
``trainplane/spot/traces`` (provenance in its README) and can be loaded by file stem.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from trainplane.spot.sources import Interruption


@dataclass(frozen=True)
class SpotTrace:
    gap_seconds: int
    counts: tuple[int, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if self.gap_seconds < 1:
            raise ValueError(f"trace {self.name!r}: gap_seconds must be a positive integer")
        if not self.counts:
            raise ValueError(f"trace {self.name!r}: data is empty")
        if any(c < 0 for c in self.counts):
            raise ValueError(f"trace {self.name!r}: instance counts must be >= 0")


def parse_trace(document: Mapping[str, Any], name: str = "") -> SpotTrace:
    """Build a trace from an already-decoded JSON document, with ValueError for a wrong shape."""
    metadata, data = document.get("metadata"), document.get("data")
    if not isinstance(metadata, Mapping) or not isinstance(data, list):
        raise ValueError(f"trace {name!r}: expected {{'metadata': {{'gap_seconds': N}}, 'data': [...]}}")
    gap = metadata.get("gap_seconds")
    # Integer ticks keep tick arithmetic exact (see TraceReplay); all published traces use whole seconds.
    if isinstance(gap, bool) or not isinstance(gap, int):
        raise ValueError(f"trace {name!r}: metadata.gap_seconds must be an integer, got {gap!r}")
    if not all(isinstance(c, int) and not isinstance(c, bool) for c in data):
        raise ValueError(f"trace {name!r}: data must be a list of integer instance counts")
    return SpotTrace(gap_seconds=gap, counts=tuple(data), name=name)


def bundled_traces() -> list[str]:
    """Names of the traces shipped with trainplane (file stems)."""
    folder = resources.files("trainplane") / "spot" / "traces"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_trace(name_or_path: str | Path) -> SpotTrace:
    """Load a bundled trace by name, or any trace file by path."""
    path = Path(name_or_path)
    if str(name_or_path) in bundled_traces():
        resource = resources.files("trainplane") / "spot" / "traces" / f"{name_or_path}.json"
        return parse_trace(json.loads(resource.read_text(encoding="utf-8")), str(name_or_path))
    if not path.is_file():
        known = ", ".join(bundled_traces())
        raise ValueError(f"no trace file {str(path)!r} and no bundled trace of that name (bundled: {known})")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"trace {str(path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(document, Mapping):
        raise ValueError(f"trace {str(path)!r}: expected a JSON object")
    return parse_trace(document, path.stem)


class TraceReplay:
    """Capacity and interruptions from a trace: the job needs ``required`` instances up.

    Job time 0 falls at tick ``offset_ticks``; the trace repeats once it runs out, so long jobs keep a
    realistic pattern rather than an unbounded calm. An attempt is interrupted at the first tick from
    its start on with fewer than ``required`` instances, and resumes at the next tick with enough.
    """

    def __init__(self, trace: SpotTrace, required: int = 1, offset_ticks: int = 0) -> None:
        if required < 1:
            raise ValueError(f"required instances must be >= 1, got {required}")
        self.trace, self.required = trace, required
        self.offset_ticks = offset_ticks % len(trace.counts)
        self._up = [i for i, c in enumerate(trace.counts) if c >= required]
        self._down = [i for i, c in enumerate(trace.counts) if c < required]

    def _tick(self, t: float) -> int:
        return math.floor(t / self.trace.gap_seconds) + self.offset_ticks

    def _time(self, tick: int) -> float:
        return float((tick - self.offset_ticks) * self.trace.gap_seconds)

    def _next_tick(self, ticks: list[int], tick: int) -> int | None:
        """The first tick >= ``tick`` whose (cyclic) index is in ``ticks``."""
        if not ticks:
            return None
        n = len(self.trace.counts)
        base, index = divmod(tick, n)
        i = bisect.bisect_left(ticks, index)
        return base * n + ticks[i] if i < len(ticks) else (base + 1) * n + ticks[0]

    def capacity_from(self, t: float) -> float | None:
        tick = self._next_tick(self._up, self._tick(t))
        if tick is None:
            return None
        return t if tick == self._tick(t) else self._time(tick)

    def next_interruption(self, attempt: int, started_at: float) -> Interruption | None:
        tick = self._next_tick(self._down, self._tick(started_at))
        if tick is None:
            return None
        # outage_seconds stays 0: capacity_from reads the outage straight from the trace.
        return Interruption(after_seconds=max(0.0, self._time(tick) - started_at))
