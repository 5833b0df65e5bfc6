"""What the control loop needs from an executor: start, watch, signal and kill one attempt's hosts.

Host records are plain JSON-able dicts persisted with the attempt, so a restarted control plane can
rebuild its view of running hosts from the store alone.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class HostLaunch:
    """Everything needed to start the runtime agent of one host of one attempt."""

    host: str
    root: Path  # laid out like /opt/ml
    agent_dir: Path  # the agent's own files: spec.json, events.jsonl, output.log, result.json
    spec: dict[str, Any]
    cpus: int = 1
    gpus: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class HostStatus:
    alive: bool
    result: dict[str, Any] | None  # the agent's result.json once written
    events: list[dict[str, Any]]
    # The host's machine was lost or is being drained (Ray node death, spot preemption notice): the
    # attempt should take the interruption path rather than count as the algorithm's failure.
    preempted: bool = False
    detail: str | None = None  # a human-readable cause, e.g. Ray's actor-death message


class Executor(Protocol):
    name: str

    def launch(self, hosts: list[HostLaunch]) -> list[dict[str, Any]]:
        """Start every host's agent; return one persistable record per host."""

    def status(self, record: dict[str, Any]) -> HostStatus: ...

    def probe(self, record: dict[str, Any]) -> Hashable | None:
        """A cheap fingerprint of the host's state (alive, phase events, result) that changes whenever
        ``status`` would; None when the executor has none (the host is then supervised every tick)."""

    def read_output(
        self, record: dict[str, Any], offset: int, max_lines: int | None = None
    ) -> tuple[list[tuple[float, str]], int]:
        """Complete log lines written since byte ``offset`` (at most ``max_lines``): lines, new offset."""

    def terminate(self, record: dict[str, Any]) -> None:
        """Deliver SIGTERM (the stop notice) to the host."""

    def kill(self, record: dict[str, Any]) -> None:
        """SIGKILL the host's whole process tree."""

    def kill_unrecorded(self, hosts: list[HostLaunch]) -> None:
        """Kill what an earlier launch of these same hosts left running: a control plane that died
        after ``launch`` but before the store recorded the attempt leaves agents nobody supervises."""
