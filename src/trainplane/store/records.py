"""Frozen copies of stored rows: what the store hands out. Mutating one never changes the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Transition:
    status: str
    start_time: float
    end_time: float | None
    message: str


@dataclass(frozen=True)
class Attempt:
    job_name: str
    number: int
    status: str
    launch_time: float
    start_time: float | None
    end_time: float | None
    exit_code: int | None
    reason: str | None
    executor: str
    hosts: list[dict[str, Any]]
    spot: bool = False


@dataclass(frozen=True)
class TrainingJob:
    name: str
    arn: str
    status: str
    secondary_status: str
    failure_reason: str | None
    request: dict[str, Any]
    creation_time: float
    last_modified_time: float
    training_start_time: float | None
    training_end_time: float | None
    stop_reason: str | None
    model_artifacts: str
    tuning_job_arn: str | None
    owner: str | None
    phase: str
    retries_used: int
    version: int
    transitions: list[Transition] = field(default_factory=list)


@dataclass(frozen=True)
class MetricPoint:
    name: str
    value: float
    timestamp: float
    host: str


@dataclass(frozen=True)
class LogEvent:
    id: int
    stream: str
    timestamp: float
    message: str


@dataclass(frozen=True)
class Controller:
    id: str
    hostname: str
    pid: int
    started: float
    heartbeat: float
