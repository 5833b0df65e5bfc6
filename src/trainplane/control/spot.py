"""Managed spot decisions for the reconciler: interruption notices, capacity waits, MaxWait, progress.

Everything here is derived from the store (the job, its attempts) and a seeded interruption source, so
a restarted control plane reaches the same decisions. Times given to a source are *job-relative*:
seconds since the job's ``CreationTime``.

* The source is the server's ``TRAINPLANE_SPOT_INTERRUPTIONS`` (default ``none``), or the job's own
  ``Environment`` entry of the same name (a trainplane extension: botocore rejects unknown request
  members, and tag values cannot hold JSON). Either is a ``parse_source`` spec: a bare name or JSON.
* Spot attempt ``k`` (0-based, counting only attempts that ran on spot capacity) gets the notice
  ``source.next_interruption(k, launched_at)``: a time after its launch, or a step it must reach.
* Steps are read from the job's log lines (:func:`step_of`): XGBoost's ``[N]`` rounds and Linear
  Learner's ``epoch=N`` count as N+1 steps done, a ``trainplane-step: N`` line (see
  ``trainplane.checkpoints.report_step``) as N; otherwise each emission of the job's first metric
  definition on ``algo-1`` counts one step of the running attempt.
* After an interrupted attempt ends, capacity returns at ``capacity_from(end + outage)``.
* ``MaxWaitTimeInSeconds`` runs from ``CreationTime``: spent while waiting -> Stopped /
  MaxWaitTimeExceeded; spent while a spot attempt runs -> Stopping, then the same.
* On-demand fallback (``TRAINPLANE_SPOT_ON_DEMAND_FALLBACK``, or the job's Environment entry of that
  name): when capacity would return only after MaxWait (or never), the job continues at once on
  on-demand capacity, which is never interrupted and is billed at the on-demand price. MaxWait then
  never stops a running spot attempt either: it runs on, and its restart (if any) goes on-demand.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from trainplane.settings import Settings
from trainplane.spot import InterruptionSource, parse_source
from trainplane.spot.sources import Interruption
from trainplane.store.records import Attempt, TrainingJob

ATTEMPT_INTERRUPTED = "interrupted"  # attempt status of an attempt ended by a spot interruption
SOURCE_KEY = "TRAINPLANE_SPOT_INTERRUPTIONS"
FALLBACK_KEY = "TRAINPLANE_SPOT_ON_DEMAND_FALLBACK"
DEFAULT_MAX_RUNTIME = 86400

_XGBOOST_ROUND = re.compile(r"^\[(\d+)\](?:\t|#011)")
_LINEAR_LEARNER_EPOCH = re.compile(r"^#quality_metric: host=\S+, epoch=(\d+), train ")
_EXPLICIT_STEP = re.compile(r"^trainplane-step: (\d+)\s*$")


def is_spot(job: TrainingJob) -> bool:
    return bool(job.request.get("EnableManagedSpotTraining"))


def parse_spec(text: str) -> dict[str, Any] | str:
    """A spec string: JSON (``{"type": ...}``) or a bare source name such as ``none``."""
    text = text.strip()
    if text.startswith(("{", '"')):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{SOURCE_KEY} is not valid JSON: {exc}") from exc
        if not isinstance(value, dict | str):
            raise ValueError(f"{SOURCE_KEY} must be a JSON object or a source name")
        return value
    return text


def source_for(job: TrainingJob, settings: Settings) -> InterruptionSource:
    """The job's interruption source; ValueError for a malformed spec."""
    text = job.request.get("Environment", {}).get(SOURCE_KEY) or settings.spot_interruptions
    resource = job.request["ResourceConfig"]
    return parse_source(
        parse_spec(text),
        instance_type=resource["InstanceType"],
        instance_count=int(resource["InstanceCount"]),
        base_dir=settings.home,
    )


def fallback_enabled(job: TrainingJob, settings: Settings) -> bool:
    value = job.request.get("Environment", {}).get(FALLBACK_KEY)
    if value is None:
        return settings.spot_on_demand_fallback
    return value.strip().lower() in ("1", "true", "yes", "on")


def max_wait_deadline(job: TrainingJob) -> float:
    stopping = job.request["StoppingCondition"]
    wait = stopping.get("MaxWaitTimeInSeconds", stopping.get("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME))
    return job.creation_time + float(wait)


def spot_index(attempts: list[Attempt], number: int) -> int:
    """0-based index of attempt ``number`` among the job's spot attempts."""
    return sum(1 for a in attempts if a.spot and a.number < number)


def notice_for(
    job: TrainingJob, source: InterruptionSource, attempts: list[Attempt], attempt: Attempt
) -> Interruption | None:
    if not attempt.spot:
        return None
    started = attempt.launch_time - job.creation_time
    return source.next_interruption(spot_index(attempts, attempt.number), started)


def notice_due(notice: Interruption, launch_time: float, now: float, progress: int) -> bool:
    if notice.after_seconds is not None:
        return now - launch_time >= notice.after_seconds
    return notice.at_step is not None and progress >= notice.at_step


@dataclass(frozen=True)
class Readiness:
    """When a queued spot job may launch: ``at`` (epoch seconds) on spot, or None (never)."""

    at: float | None
    interrupted: bool  # the previous attempt ended by an interruption


def ready_at(job: TrainingJob, source: InterruptionSource, attempts: list[Attempt], now: float) -> Readiness:
    last = attempts[-1] if attempts else None
    if last is not None and last.status != ATTEMPT_INTERRUPTED:
        return Readiness(now, False)  # a retry after a lost host: capacity is not the question
    start = 0.0
    if last is not None:
        notice = notice_for(job, source, attempts, last)
        outage = notice.outage_seconds if notice is not None else 0.0
        start = (last.end_time or now) - job.creation_time + outage
    back = source.capacity_from(start)
    return Readiness(None if back is None else job.creation_time + back, last is not None)


def training_seconds(attempts: list[Attempt], now: float) -> float:
    return sum((a.end_time or now) - a.start_time for a in attempts if a.start_time is not None)


def step_of(text: str) -> int | None:
    """Steps done according to one (tab-escaped or raw) log line, for step-based schedules."""
    for pattern, offset in ((_XGBOOST_ROUND, 1), (_LINEAR_LEARNER_EPOCH, 1), (_EXPLICIT_STEP, 0)):
        match = pattern.match(text)
        if match:
            return int(match.group(1)) + offset
    return None


def describe_notice(notice: Interruption, grace: float) -> str:
    if notice.after_seconds is not None:
        when = f"after {math.floor(notice.after_seconds)} s"
    else:
        when = f"at step {notice.at_step}"
    return (
        f"Spot capacity interrupted ({when}): SIGTERM sent to every host, {grace:g} s to checkpoint before "
        "the instances are reclaimed"
    )
