"""``parse_source``: an interruption source from a server- or job-level configuration value.

Accepted shapes (a bare string is shorthand for ``{"type": <string>}``)::

    "none"
    {"type": "schedule", "at_seconds": [30, 90], "outage_seconds": 60}       # or a list, one per item
    {"type": "schedule", "at_steps": [3, 5]}
    {"type": "schedule", "items": [{"seconds": 30, "outage_seconds": 10}, {"step": 5}]}
    {"type": "poisson", "seed": 7}                  # rate from the job's instance type (rates.py)
    {"type": "poisson", "rate_per_hour": 2, "seed": 7, "outage_mean_seconds": 600,
     "outage_distribution": "fixed"}
    {"type": "trace", "name": "aws-p3.2xlarge-us-east-1c-preemption-2023-04", "offset_seconds": 3600}
    {"type": "trace", "path": "traces/mine.json", "seed": 7}       # seed picks a random offset
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from trainplane.spot.sources import (
    InterruptionAt,
    InterruptionSource,
    NoInterruptions,
    Outage,
    PoissonInterruptions,
    ScheduledInterruptions,
)
from trainplane.spot.trace import TraceReplay, load_trace

_KEYS = {
    "none": set(),
    "schedule": {"at_seconds", "at_steps", "items", "outage_seconds"},
    "poisson": {"rate_per_hour", "seed", "outage_mean_seconds", "outage_distribution"},
    "trace": {"name", "path", "offset_seconds", "seed", "required"},
}


def parse_source(
    spec: Mapping[str, Any] | str,
    *,
    instance_type: str | None = None,
    instance_count: int = 1,
    base_dir: Path | None = None,
) -> InterruptionSource:
    """Build a source; ValueError naming the problem for anything malformed.

    ``instance_type``/``instance_count`` fill in a Poisson rate and a trace's required instances;
    ``base_dir`` anchors a relative trace ``path`` (default: the working directory).
    """
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise ValueError(f"interruption source must be a string or a mapping, got {type(spec).__name__}")
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise ValueError(f"interruption source type must be one of {sorted(_KEYS)}, got {kind!r}")
    unknown = set(spec) - _KEYS[kind] - {"type"}
    if unknown:
        raise ValueError(
            f"unknown keys for a {kind!r} source: {sorted(unknown)}; allowed: {sorted(_KEYS[kind])}"
        )
    builders: dict[str, Callable[[], InterruptionSource]] = {
        "none": NoInterruptions,
        "schedule": lambda: _schedule(spec),
        "poisson": lambda: _poisson(spec, instance_type, instance_count),
        "trace": lambda: _trace(spec, instance_count, base_dir),
    }
    try:
        return builders[kind]()
    except (TypeError, KeyError) as exc:  # wrong value types deep inside, e.g. "seconds": "ten"
        raise ValueError(f"bad {kind!r} interruption source {dict(spec)!r}: {exc}") from exc


def _number_list(spec: Mapping[str, Any], key: str) -> list[float]:
    values = spec[key]
    if not isinstance(values, list) or not all(_is_number(v) for v in values):
        raise ValueError(f"{key} must be a list of numbers, got {values!r}")
    return values


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _schedule(spec: Mapping[str, Any]) -> ScheduledInterruptions:
    given = [k for k in ("at_seconds", "at_steps", "items") if k in spec]
    if len(given) != 1:
        raise ValueError(
            f"a schedule needs exactly one of at_seconds, at_steps, items; got {given or 'none'}"
        )
    if given == ["items"]:
        if "outage_seconds" in spec:
            raise ValueError("with items, give outage_seconds inside each item")
        items = spec["items"]
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise ValueError(f"items must be a list of mappings, got {items!r}")
        return ScheduledInterruptions([InterruptionAt(**item) for item in items])
    # at_seconds is a set of moments, so order it; at_steps is kept as written (steps may restart).
    points = _number_list(spec, given[0])
    points = sorted(points) if given == ["at_seconds"] else points
    outages = spec.get("outage_seconds", 0.0)
    outages = outages if isinstance(outages, list) else [outages] * len(points)
    if len(outages) != len(points) or not all(_is_number(o) for o in outages):
        raise ValueError(f"outage_seconds must be a number or {len(points)} numbers, got {outages!r}")
    if given == ["at_steps"]:
        if not all(isinstance(p, int) for p in points):
            raise ValueError(f"at_steps must be whole steps, got {points!r}")
        return ScheduledInterruptions(
            [InterruptionAt(step=int(p), outage_seconds=o) for p, o in zip(points, outages, strict=True)]
        )
    return ScheduledInterruptions(
        [InterruptionAt(seconds=p, outage_seconds=o) for p, o in zip(points, outages, strict=True)]
    )


def _seed(spec: Mapping[str, Any]) -> int:
    seed = spec.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return seed


def _poisson(spec: Mapping[str, Any], instance_type: str | None, instance_count: int) -> PoissonInterruptions:
    mean = spec.get("outage_mean_seconds", 0.0)
    if not _is_number(mean):
        raise ValueError(f"outage_mean_seconds must be a number, got {mean!r}")
    outage = Outage(float(mean), spec.get("outage_distribution", "exponential"))
    if "rate_per_hour" in spec:
        rate = spec["rate_per_hour"]
        if not _is_number(rate):
            raise ValueError(f"rate_per_hour must be a number, got {rate!r}")
        return PoissonInterruptions(float(rate), _seed(spec), outage)
    if instance_type is None:
        raise ValueError("a poisson source needs rate_per_hour or the job's instance type")
    return PoissonInterruptions.for_instance_type(instance_type, _seed(spec), instance_count, outage)


def _trace(spec: Mapping[str, Any], instance_count: int, base_dir: Path | None) -> TraceReplay:
    if ("name" in spec) == ("path" in spec):
        raise ValueError("a trace source needs exactly one of name (bundled trace) and path")
    if "name" in spec:
        trace = load_trace(str(spec["name"]))
    else:
        path = Path(spec["path"])
        trace = load_trace(path if path.is_absolute() or base_dir is None else base_dir / path)
    if "offset_seconds" in spec and "seed" in spec:
        raise ValueError("give offset_seconds or seed (random offset) for a trace, not both")
    offset = spec.get("offset_seconds", 0)
    if not _is_number(offset) or offset < 0:
        raise ValueError(f"offset_seconds must be a number >= 0, got {offset!r}")
    ticks = int(offset // trace.gap_seconds)
    if "seed" in spec:
        ticks = random.Random(f"trainplane.spot.trace:{_seed(spec)}").randrange(len(trace.counts))
    required = spec.get("required", instance_count)
    if not isinstance(required, int) or isinstance(required, bool):
        raise ValueError(f"required must be an integer, got {required!r}")
    return TraceReplay(trace, required=required, offset_ticks=ticks)
