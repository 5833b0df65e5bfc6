"""Watching one running attempt: log ingestion, metric scanning and phase events from its hosts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trainplane.control.spot import step_of
from trainplane.executors.base import Executor, HostStatus
from trainplane.runtime.metrics import MetricScanner, escape_for_scanning
from trainplane.spot.sources import Interruption
from trainplane.store import Store
from trainplane.store.records import Attempt, MetricPoint


def stream_name(job_name: str, host: str, launch_time: float) -> str:
    """CloudWatch-style stream name: ``<job>/algo-1-<epoch seconds>``."""
    return f"{job_name}/{host}-{int(launch_time)}"


def attempt_stream(attempt: Attempt, host: str) -> str:
    """The log stream of one host of an attempt (recorded at launch; derived for older records)."""
    for record in attempt.hosts:
        if record.get("host") == host and record.get("stream"):
            return str(record["stream"])
    return stream_name(attempt.job_name, host, attempt.launch_time)


def stream_epoch(attempt: Attempt) -> int:
    name = attempt_stream(attempt, attempt.hosts[0]["host"]) if attempt.hosts else ""
    suffix = name.rsplit("-", 1)[-1]
    return int(suffix) if suffix.isdigit() else int(attempt.launch_time)


INGEST_LINES = 2_000  # output lines stored per host per tick, at most (a tick stays well under 1 s)


@dataclass
class Supervision:
    job_name: str
    attempt: int
    launch_time: float
    hosts: list[dict[str, Any]]
    scanner: MetricScanner
    offsets: dict[str, int] = field(default_factory=dict)
    term_sent_at: float | None = None
    killed: bool = False
    reported: set[str] = field(default_factory=set)
    finishing: bool = False
    spot: bool = False  # this attempt runs on spot capacity
    notice: Interruption | None = None  # the interruption this attempt will get (spot only)
    interrupted_at: float | None = None  # when a spot interruption notice was delivered
    lost_hosts: list[str] = field(default_factory=list)  # hosts whose node was lost (not spot)
    lost_detail: str = ""
    # Hosts whose agent ended without a result (killed, out of memory), and when that was first seen.
    agents_lost: dict[str, float] = field(default_factory=dict)
    finish_retry_at: float = 0.0  # time.monotonic() before which a failed finishing is not retried
    progress: int = 0  # steps done, for step-based interruption schedules (control.spot.step_of)
    sync_warning: str | None = None  # the last checkpoint-sync failure a host reported
    backlog: bool = False  # the last ingest hit INGEST_LINES for a host: more output is waiting
    next_pass: float = 0.0  # time.monotonic() by which the loop supervises this attempt fully again
    probe: object = None  # the executor's last cheap fingerprint of the hosts (see Reconciler._pass_due)

    def _count_progress(self, host: str, texts: list[str], points: list[MetricPoint]) -> None:
        steps = [s for s in (step_of(t) for t in texts) if s is not None]
        if steps:
            self.progress = max(self.progress, *steps)
        elif host == "algo-1" and self.scanner.names:
            first = self.scanner.names[0]
            self.progress += sum(1 for p in points if p.name == first)

    def stream(self, host: str) -> str:
        for record in self.hosts:
            if record.get("host") == host and record.get("stream"):
                return str(record["stream"])
        return stream_name(self.job_name, host, self.launch_time)

    def ingest(self, store: Store, executor: Executor) -> int:
        """Move new output lines of every host into the store, with the metrics found in them: at most
        ``INGEST_LINES`` per host per call, so that a tick stays short (and stops, deadlines and
        notices go out on time) even when a job prints faster than it can be stored. Returns how many
        lines were stored (0: caught up with every host)."""
        stored = 0
        self.backlog = False
        for record in self.hosts:
            host = record["host"]
            lines, offset = executor.read_output(record, self.offsets.get(host, 0), INGEST_LINES)
            stored += len(lines)
            self.backlog = self.backlog or len(lines) >= INGEST_LINES
            if not lines:
                continue
            self.offsets[host] = offset
            escaped = [escape_for_scanning(text) for _, text in lines]
            points = [
                MetricPoint(name, value, stamp, host)
                for (stamp, _), text in zip(lines, escaped, strict=True)
                for name, value in self.scanner.scan_escaped(text)
            ]
            store.ingest_output(self.job_name, self.stream(host), lines, points)
            self._count_progress(host, escaped, points)
        return stored

    def needs_every_tick(self) -> bool:
        """Work that cannot wait for the next steady pass: output still queued, a spot notice that may
        come due at a step the log reports, or a stop on its way from SIGTERM to SIGKILL."""
        notice_pending = self.notice is not None and self.interrupted_at is None
        stop_pending = self.term_sent_at is not None and not self.killed
        return self.backlog or notice_pending or stop_pending

    def statuses(self, executor: Executor) -> dict[str, HostStatus]:
        return {record["host"]: executor.status(record) for record in self.hosts}

    def skip_stored_lines(self, store: Store, executor: Executor) -> None:
        """After adopting a running attempt: start reading where the previous control plane stopped."""
        for record in self.hosts:
            host = record["host"]
            already = store.count_log_events(self.job_name, self.stream(host))
            if already:
                _, offset = executor.read_output(record, 0, max_lines=already)
                self.offsets[host] = offset
