"""The reconciler: one loop that moves jobs through their lifecycle.

Each tick it (1) adopts jobs whose control plane died, (2) watches the attempts it drives — logs,
metrics, phase events, MaxRuntimeInSeconds, stop requests, SIGTERM/SIGKILL — and finishes those whose
hosts all exited, and (3) launches queued jobs while local capacity allows. All state it needs survives
in the store; the in-memory ``Supervision`` objects are caches rebuilt on adoption.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from trainplane.catalog import capacity, instances
from trainplane.clock import Clock
from trainplane.control import finishing, plans, spot, startup_objects
from trainplane.control.supervision import Supervision, stream_epoch
from trainplane.errors import ConflictError
from trainplane.executors.base import Executor, HostStatus
from trainplane.job_files import clear_stale_attempt
from trainplane.liveness import recorded_process_alive
from trainplane.runtime.metrics import MetricScanner
from trainplane.settings import Settings
from trainplane.spot import InterruptionSource
from trainplane.states import AttemptStatus, JobStatus, Phase
from trainplane.store import Store
from trainplane.store.records import Attempt, Controller, TrainingJob

log = logging.getLogger(__name__)


class LoopParticipant(Protocol):
    def tick(self) -> bool:
        """One pass; True while it has live work (it is then called on every tick, not only on scans)."""
        ...


HEARTBEAT_SECONDS = 1.0
DEAD_AFTER_SECONDS = 10.0
DRAIN_SECONDS_PER_TICK = 0.5  # storing the output of hosts that exited, per tick, at most
# The background loop scans the queue and runs idle participants this often when nothing in this process
# changed (a change here, such as a created, stopped or finished job, scans at once). Scanning on every
# 50 ms tick cost an idle control plane 1.7 % of a core, and a running job's hosts the same again.
IDLE_SCAN_SECONDS = 0.5
# The background loop supervises a running attempt fully (reads its job, stores its output, checks its
# deadlines) this often while its hosts show no change; a host exiting, writing a phase event or its
# result is seen by the executor's cheap probe on the next 50 ms tick and supervised at once. Full passes
# on every tick cost ~6 % of a core per running job, taken from the job on a busy machine (a 2-host job
# all-reduces several times a round, so an interruption on either core stalls both).
STEADY_PASS_SECONDS = 0.25
FINISH_RETRY_SECONDS = 5.0  # after finishing a job failed (store or storage unreachable)


class Reconciler:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        executor: Executor,
        machine: capacity.Resources,
        controller_id: str | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.executor = executor
        self.machine = machine
        self.id = controller_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._supervised: dict[str, Supervision] = {}
        self._finishing: dict[str, Future[None]] = {}
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="trainplane-finish")
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_heartbeat = 0.0
        self._last_adoption = -1e18
        self._tick_lock = threading.Lock()
        self._participants: list[LoopParticipant] = []
        self._busy_participants: set[int] = set()  # indexes of participants with live work
        self._changed = True  # something this process did may have made queued work runnable
        self._next_scan = 0.0  # time.monotonic() of the next scan when nothing changed
        self._sources: dict[tuple[str, float], InterruptionSource] = {}
        now = clock.now()
        store.register_controller(Controller(self.id, socket.gethostname(), os.getpid(), now, now))

    # ----------------------------------------------------------------- running the loop
    def add_participant(self, participant: LoopParticipant) -> None:
        """Another control loop (e.g. the tuner) that runs once per tick, after jobs were reconciled."""
        self._participants.append(participant)

    def wake(self) -> None:
        """Something changed (a job created, stopped, ...): scan at once instead of at the next idle scan."""
        self._changed = True
        self._wake.set()

    def drives(self, name: str) -> bool:
        """Whether this control plane runs (or is finishing) the job now: its status changes then
        happen in this process."""
        return name in self._supervised or name in self._finishing

    def start(self) -> None:
        """Run the loop in a background thread (server, notebooks)."""
        startup_objects.freeze_once()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="trainplane-reconciler", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop looping. Running jobs keep running and are adopted by the next control plane."""
        self._halt.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for future in list(self._finishing.values()):
            future.result(timeout=600)
        self._pool.shutdown(wait=True)
        self.store.remove_controller(self.id)

    def settle(self, timeout: float = 60) -> None:
        """Wait for in-flight finishing work (simulations on a fake clock call this between ticks)."""
        for future in list(self._finishing.values()):
            future.exception(timeout=timeout)

    def run_until(self, done: Callable[[], bool], timeout: float | None = None) -> bool:
        """Drive the loop in this thread until ``done()`` (foreground CLI). False on timeout."""
        deadline = None if timeout is None else self.clock.now() + timeout
        startup_objects.freeze_once()
        while not done():
            if deadline is not None and self.clock.now() > deadline:
                return False
            self.tick(scan=False)
            self._wake.wait(self.settings.poll_interval_seconds)
            self._wake.clear()
        return True

    def _loop(self) -> None:
        while not self._halt.is_set():
            try:
                self.tick(scan=False)
            except Exception:  # one bad tick must not end the control plane
                log.exception("reconciler tick failed")
            self._wake.wait(self.settings.poll_interval_seconds)
            self._wake.clear()

    def tick(self, *, scan: bool = True) -> None:
        """One pass: supervise running jobs, then scan the queue and run the participants.

        ``scan=False`` (the loops) scans the queue and runs participants without live work only when
        something changed in this process or ``IDLE_SCAN_SECONDS`` passed; direct callers (tests and
        simulations on a fake clock) get a full pass every time.
        """
        with self._tick_lock:
            now = self.clock.now()
            if now - self._last_heartbeat >= HEARTBEAT_SECONDS:
                self.store.heartbeat(self.id, now)
                self._last_heartbeat = now
            if now - self._last_adoption >= HEARTBEAT_SECONDS:
                self._adopt_orphans()
                self._last_adoption = now
            if self._collect_finished():
                self._changed = True  # capacity came free: queued jobs may fit now
            changed = self._changed  # e.g. a stop requested in this process: supervise at once
            for name in list(self._supervised):
                sup = self._supervised[name]
                if scan or changed or self._pass_due(sup):
                    self._supervise(sup)
            due = scan or self._changed or time.monotonic() >= self._next_scan
            if due:
                self._changed = False  # cleared before scanning: a change during the scan is not lost
                self._next_scan = time.monotonic() + IDLE_SCAN_SECONDS
                self._launch_queued()
            for index, participant in enumerate(self._participants):
                if not due and index not in self._busy_participants:
                    continue
                try:
                    busy = participant.tick()
                except Exception:  # a failing participant must not stop job reconciliation
                    log.exception("control-loop participant %r failed", participant)
                    busy = True
                if busy:
                    self._busy_participants.add(index)
                else:
                    self._busy_participants.discard(index)

    # ----------------------------------------------------------------- launching
    def _launch_queued(self) -> None:
        queued = self.store.list_training_jobs(phases=[Phase.QUEUED], sort_by="CreationTime", ascending=True)
        if not queued:
            return
        # Another control plane on this store decides under the same lock, and counts what this one
        # claimed as in use: two never launch into the same free capacity.
        with self.store.launch_lock():
            claimed = self._claim_fitting(queued)
        for job, on_spot in claimed:
            self._launch(job, on_spot=on_spot)

    def _claim_fitting(self, queued: list[TrainingJob]) -> list[tuple[TrainingJob, bool]]:
        """Claim the queued jobs that fit now, oldest first (backfilling smaller ones); (job, on spot)
        for each. Jobs that can never run, or stopped before they launched, are ended here."""
        claimed: list[tuple[TrainingJob, bool]] = []
        in_use = self._resources_in_use()
        for job in queued:
            if job.owner is not None or job.name in self._finishing:
                continue
            if job.status == JobStatus.STOPPING:
                if self.store.claim(job.name, self.id):
                    self._finish_unlaunched(job)
                continue
            on_spot = spot.is_spot(job)
            if on_spot:
                gate = self._spot_gate(job)
                if gate is None:
                    continue  # waiting for spot capacity, or ended by the gate
                on_spot = gate == "spot"
            need = _demand(job)
            if self.executor.name == "local" and not self.machine.covers(need):
                # Fitted when created, but this control plane has less (a restart with another
                # oversubscription or GPU set): it would wait forever. A Ray cluster may still grow.
                if self.store.claim(job.name, self.id):
                    self._fail_unlaunched(job, _capacity_error(job, need, self.machine, self.settings))
                continue
            if not (self.machine - in_use).covers(need):
                continue  # smaller jobs behind it may still fit (backfill)
            if not self.store.claim(job.name, self.id):
                continue
            in_use = in_use + need
            claimed.append((job, on_spot))
        return claimed

    def _resources_in_use(self) -> capacity.Resources:
        """Running and finishing jobs, and queued ones a control plane claimed to launch."""
        total = capacity.Resources(0, 0, 0)
        for job in self.store.list_training_jobs(phases=[Phase.RUNNING, Phase.FINISHING, Phase.QUEUED]):
            if job.phase != Phase.QUEUED.value or (
                job.owner is not None and job.status != JobStatus.STOPPING
            ):
                total = total + _demand(job)
        return total

    # ----------------------------------------------------------------- spot capacity
    def _source(self, job: TrainingJob) -> InterruptionSource:
        # Keyed by creation time too: a job deleted and created again under its name has its own spec.
        key = (job.name, job.creation_time)
        if key not in self._sources:
            self._sources[key] = spot.source_for(job, self.settings)
        return self._sources[key]

    def _forget_source(self, name: str) -> None:
        """Drop a job's interruption source once its attempt ended (rebuilt from the spec if it runs
        again: sources are deterministic), so a long-lived control plane does not keep every job's."""
        for key in [k for k in self._sources if k[0] == name]:
            del self._sources[key]

    def _spot_gate(self, job: TrainingJob) -> str | None:
        """ "spot" or "on-demand" when a queued spot job may launch now; None while it waits."""
        now = self.clock.now()
        try:
            source = self._source(job)
        except ValueError as exc:
            if self.store.claim(job.name, self.id):
                self._fail_unlaunched(job, f"ClientError: Invalid {spot.SOURCE_KEY}: {exc}")
            return None
        attempts = self.store.attempts(job.name)
        deadline = spot.max_wait_deadline(job)
        ready = spot.ready_at(job, source, attempts, now)
        fallback = spot.fallback_enabled(job, self.settings)
        if any(not a.spot for a in attempts) or (fallback and (ready.at is None or ready.at > deadline)):
            return "on-demand"
        if now >= deadline:
            if self.store.claim(job.name, self.id):
                limit = job.request["StoppingCondition"].get("MaxWaitTimeInSeconds")
                stopped = self.store.request_stop(
                    job.name,
                    reason="MaxWaitTimeExceeded",
                    now=now,
                    message=f"Stopping the training job: MaxWaitTimeInSeconds ({limit} s) exceeded "
                    "while waiting for spot capacity",
                )
                self._finish_unlaunched(stopped or job)
            return None
        return "spot" if ready.at is not None and ready.at <= now else None

    def _launch(self, job: TrainingJob, on_spot: bool = False) -> None:
        now = self.clock.now()
        attempts = self.store.attempts(job.name)
        number = len(attempts) + 1
        launches = plans.attempt_plan(
            job,
            number,
            self.settings,
            int(self.machine.cpus),
            runtime_left=self._runtime_left(job, attempts, now),
        )
        # An earlier launch of this attempt whose record never reached the store left these running.
        self.executor.kill_unrecorded(launches)
        clear_stale_attempt(plans.attempt_dir(self.settings, job.name, number), self.settings.jobs_root)
        restart: dict[str, Any] = {}
        if spot.is_spot(job) and not on_spot and all(a.spot for a in attempts):
            restart = {
                "secondary": "Starting",
                "message": "No spot capacity before MaxWaitTimeInSeconds: continuing on on-demand "
                "capacity (billed as on-demand)",
            }
        elif job.secondary_status == "Interrupted":
            restart = {"secondary": "Starting", "message": _restart_message(self.executor.name)}
        self.store.update_training_job(
            job.name, now=now, phase=Phase.RUNNING.value, expected_owner=self.id, check_owner=True, **restart
        )
        try:
            records = self.executor.launch(launches)
        except Exception as exc:  # the job would otherwise sit in Starting with nothing to supervise
            log.exception("launching %s failed", job.name)
            self.executor.kill_unrecorded(launches)  # the hosts it did start
            self._fail_unlaunched(job, f"InternalServerError: The training job could not be started: {exc}")
            return
        # Stream names end in epoch seconds, as SageMaker's; attempts that restart within the same second
        # (fast spot restarts) still need their own streams, so the number only ever grows.
        epoch = max(int(now), max((stream_epoch(a) + 1 for a in attempts), default=0))
        for record in records:
            record["stream"] = f"{job.name}/{record['host']}-{epoch}"
        attempt = Attempt(
            job_name=job.name,
            number=number,
            status=AttemptStatus.RUNNING.value,
            launch_time=now,
            start_time=None,
            end_time=None,
            exit_code=None,
            reason=None,
            executor=self.executor.name,
            hosts=records,
            spot=on_spot,
        )
        self.store.add_attempt(attempt)
        self._supervised[job.name] = self._supervision(job, attempt)

    def _supervision(self, job: TrainingJob, attempt: Attempt) -> Supervision:
        definitions = job.request["AlgorithmSpecification"].get("MetricDefinitions", [])
        # A job stored before the API refused unusable regexes still runs, without those metrics.
        scanner = MetricScanner(definitions, skip_invalid=True)
        for problem in scanner.skipped:
            log.warning("job %s: %s Its values are not recorded.", job.name, problem)
        sup = Supervision(job.name, attempt.number, attempt.launch_time, attempt.hosts, scanner)
        if attempt.spot:
            sup.spot = True
            try:
                attempts = self.store.attempts(job.name)
                sup.notice = spot.notice_for(job, self._source(job), attempts, attempt)
            except ValueError:
                log.warning("job %s: invalid interruption source; this attempt runs undisturbed", job.name)
        return sup

    # ----------------------------------------------------------------- watching
    def _pass_due(self, sup: Supervision) -> bool:
        """Whether the loop's tick supervises ``sup`` fully: when its hosts changed (by the executor's
        probe), when it has urgent work, or once per ``STEADY_PASS_SECONDS``."""
        if sup.needs_every_tick() or time.monotonic() >= sup.next_pass:
            return True
        probe = self._probe(sup)
        return probe is None or probe != sup.probe

    def _probe(self, sup: Supervision) -> object:
        probes = [self.executor.probe(record) for record in sup.hosts]
        return None if any(p is None for p in probes) else tuple(probes)

    def _supervise(self, sup: Supervision) -> None:
        if sup.finishing or time.monotonic() < sup.finish_retry_at:
            return
        # Probed before reading anything: a change while this pass runs shows on the next tick.
        sup.probe = self._probe(sup)
        sup.next_pass = time.monotonic() + STEADY_PASS_SECONDS
        job = self.store.get_training_job(sup.job_name)
        if job is None or job.owner != self.id or JobStatus(job.status).is_terminal():
            self._supervised.pop(sup.job_name, None)  # gone, adopted elsewhere, or finished by a retry
            return
        sup.ingest(self.store, self.executor)
        statuses = sup.statuses(self.executor)
        job = self._record_events(job, sup, statuses)
        job = self._enforce_max_runtime(job)
        job = self._enforce_max_wait(job, sup)
        self._interrupt_if_due(job, sup, statuses)
        self._note_preemption(job, sup, statuses)
        self._kill_abandoned(sup, statuses)
        self._deliver_stop(job, sup, statuses)
        if all(not s.alive for s in statuses.values()):
            # Store what the hosts wrote before they exited; a backlog larger than a tick's share is
            # stored over several ticks, and the job finishes once all of it is in.
            drain_until = time.monotonic() + DRAIN_SECONDS_PER_TICK
            while sup.ingest(self.store, self.executor):
                if time.monotonic() > drain_until:
                    return
            sup.finishing = True
            if sup.lost_hosts and sup.interrupted_at is None and job.status == JobStatus.IN_PROGRESS:
                attempt = next(a for a in self.store.attempts(job.name) if a.number == sup.attempt)
                why = f"lost its node ({sup.lost_detail})"
                self._finishing[job.name] = self._pool.submit(
                    finishing.handle_lost, self.store, self.clock, job, attempt, sup.lost_hosts, why
                )
                return
            if sup.interrupted_at is not None and job.status == JobStatus.IN_PROGRESS:
                self._finishing[job.name] = self._pool.submit(
                    finishing.end_interrupted, self.store, self.clock, job.name, sup, self.id
                )
                return
            outcome = finishing.outcome_of(job, statuses, sup.killed, sup.agents_lost)
            if outcome.lost_host is not None and outcome.failure_reason is not None:
                self._finishing[job.name] = self._pool.submit(
                    finishing.end_lost, self.store, self.clock, job, sup, outcome.failure_reason
                )
                return
            self._finishing[job.name] = self._pool.submit(self._finish_safely, job.name, sup, outcome)

    def _record_events(
        self, job: TrainingJob, sup: Supervision, statuses: dict[str, HostStatus]
    ) -> TrainingJob:
        phases = {e["event"]: e["time"] for s in statuses.values() for e in s.events}
        now = self.clock.now()
        if "Downloading" in phases and "Downloading" not in sup.reported:
            sup.reported.add("Downloading")
            start = phases["Downloading"]
            self.store.update_attempt(job.name, sup.attempt, start_time=start)
            if job.status == JobStatus.IN_PROGRESS:
                fields = {} if job.training_start_time is not None else {"training_start_time": start}
                job = self.store.update_training_job(
                    job.name,
                    now=now,
                    secondary="Downloading",
                    message="Downloading input data",
                    secondary_while=JobStatus.IN_PROGRESS.value,
                    **fields,
                )
            elif job.training_start_time is None:
                job = self.store.update_training_job(job.name, now=now, training_start_time=start)
        failures = [e for s in statuses.values() for e in s.events if e["event"] == "CheckpointSyncFailed"]
        if failures and failures[-1].get("message") != sup.sync_warning:
            sup.sync_warning = str(failures[-1].get("message"))
            log.warning("job %s: checkpoint sync failing: %s", job.name, sup.sync_warning)
        if "Training" in phases and "Training" not in sup.reported:
            sup.reported.add("Training")
            if job.status == JobStatus.IN_PROGRESS:
                job = self.store.update_training_job(
                    job.name,
                    now=now,
                    secondary="Training",
                    message="Training image download completed. Training in progress.",
                    secondary_while=JobStatus.IN_PROGRESS.value,
                )
        return job

    @staticmethod
    def _runtime_left(job: TrainingJob, attempts: list[Attempt], now: float) -> float:
        """What MaxRuntimeInSeconds leaves a new attempt, counted as ``_enforce_max_runtime`` counts."""
        limit = job.request["StoppingCondition"].get("MaxRuntimeInSeconds", 86400)
        if spot.is_spot(job):
            used = spot.training_seconds(attempts, now)
        else:
            used = now - job.training_start_time if job.training_start_time is not None else 0.0
        return max(0.0, limit - used)

    def _enforce_max_runtime(self, job: TrainingJob) -> TrainingJob:
        if job.status != JobStatus.IN_PROGRESS or job.training_start_time is None:
            return job
        limit = job.request["StoppingCondition"].get("MaxRuntimeInSeconds", 86400)
        elapsed = self.clock.now() - job.training_start_time
        if spot.is_spot(job):  # run time, not wait time: summed over the attempts
            elapsed = spot.training_seconds(self.store.attempts(job.name), self.clock.now())
        if elapsed <= limit:
            return job
        stopped = self.store.request_stop(
            job.name,
            reason="MaxRuntimeExceeded",
            now=self.clock.now(),
            message=f"Stopping the training job: MaxRuntimeInSeconds ({limit} s) exceeded",
        )
        return stopped or job

    def _enforce_max_wait(self, job: TrainingJob, sup: Supervision) -> TrainingJob:
        if not sup.spot or job.status != JobStatus.IN_PROGRESS or spot.fallback_enabled(job, self.settings):
            return job  # with on-demand fallback the attempt runs on; its restart goes on-demand
        if self.clock.now() <= spot.max_wait_deadline(job):
            return job
        limit = job.request["StoppingCondition"].get("MaxWaitTimeInSeconds")
        stopped = self.store.request_stop(
            job.name,
            reason="MaxWaitTimeExceeded",
            now=self.clock.now(),
            message=f"Stopping the training job: MaxWaitTimeInSeconds ({limit} s) exceeded",
        )
        return stopped or job

    def _interrupt_if_due(self, job: TrainingJob, sup: Supervision, statuses: dict[str, HostStatus]) -> None:
        """Deliver the attempt's spot interruption notice: SIGTERM to every host, then a kill after
        ``spot_notice_seconds`` (see _deliver_stop)."""
        if sup.notice is None or sup.interrupted_at is not None or job.status != JobStatus.IN_PROGRESS:
            return
        now = self.clock.now()
        if not any(s.alive for s in statuses.values()):
            return
        if not spot.notice_due(sup.notice, sup.launch_time, now, sup.progress):
            return
        sup.interrupted_at = now
        message = spot.describe_notice(sup.notice, self.settings.spot_notice_seconds)
        self.store.update_training_job(job.name, now=now, secondary="Interrupted", message=message)
        log.info("job %s attempt %d: %s", job.name, sup.attempt, message)

    def _note_preemption(self, job: TrainingJob, sup: Supervision, statuses: dict[str, HostStatus]) -> None:
        """A node lost or drained under a host (Ray): a spot job takes the interruption path (notice,
        checkpoint, resume elsewhere); any other job is retried under RetryStrategy or failed."""
        preempted = sorted(h for h, s in statuses.items() if s.preempted)
        if (
            not preempted
            or sup.lost_hosts
            or sup.interrupted_at is not None
            or job.status != JobStatus.IN_PROGRESS
        ):
            return
        detail = "; ".join(d for h in preempted if (d := statuses[h].detail)) or "node preempted"
        if sup.spot:
            sup.interrupted_at = self.clock.now()
            message = f"Spot capacity reclaimed: {', '.join(preempted)} lost its node ({detail})"
            self.store.update_training_job(
                job.name, now=sup.interrupted_at, secondary="Interrupted", message=message
            )
            return
        sup.lost_hosts, sup.lost_detail = preempted, detail

    def _kill_abandoned(self, sup: Supervision, statuses: dict[str, HostStatus]) -> None:
        """A host whose agent ended without a result has nobody left to stop its algorithm or to kill
        what that started: kill the host's processes now. The attempt ends once every agent exited,
        which may be long before the grace period's kill."""
        for record in sup.hosts:
            host = record["host"]
            status = statuses[host]
            if status.alive or status.result is not None or status.preempted or host in sup.agents_lost:
                continue
            sup.agents_lost[host] = self.clock.now()
            self.executor.kill(record)

    def _deliver_stop(self, job: TrainingJob, sup: Supervision, statuses: dict[str, HostStatus]) -> None:
        failed_host = any(
            s.preempted
            or (not s.alive and s.result is None)
            or (s.result is not None and s.result.get("exit_code") not in (0, None))
            for s in statuses.values()
        )
        interrupted = sup.interrupted_at is not None
        stopping = job.status == JobStatus.STOPPING or failed_host or interrupted
        if not stopping:
            return
        grace = self.settings.stop_grace_seconds
        if interrupted and job.status == JobStatus.IN_PROGRESS:
            grace = self.settings.spot_notice_seconds
        now = self.clock.now()
        if sup.term_sent_at is None:
            # Any host failing ends the whole attempt: the others get the same notice.
            sup.term_sent_at = now
            for record in sup.hosts:
                self.executor.terminate(record)
        elif not sup.killed and now - sup.term_sent_at >= grace:
            sup.killed = True
            for record in sup.hosts:
                self.executor.kill(record)

    # ----------------------------------------------------------------- finishing
    def _finish_safely(self, name: str, sup: Supervision, outcome: finishing.Outcome) -> None:
        try:
            finishing.finish(self.store, self.settings, self.clock, name, sup, outcome, self.id)
        except ConflictError:
            log.warning("job %s changed hands while finishing", name)

    def _collect_finished(self) -> bool:
        """Forget finished finishing work; True if any job finished."""
        collected = False
        for name, future in list(self._finishing.items()):
            if future.done():
                collected = True
                self._finishing.pop(name)
                self._forget_source(name)
                sup = self._supervised.get(name)
                current = sup is not None and sup.finishing  # not a newer attempt launched meanwhile
                if future.exception() is not None:
                    log.error("finishing %s failed; retrying", name, exc_info=future.exception())
                    if sup is not None and current:
                        # The store (or storage) failed mid-way: this control plane still owns the job,
                        # so no other adopts it. Supervise it again shortly, which finishes it anew.
                        sup.finishing = False
                        sup.finish_retry_at = time.monotonic() + FINISH_RETRY_SECONDS
                        continue
                if current:
                    self._supervised.pop(name)
        return collected

    def _finish_unlaunched(self, job: TrainingJob) -> None:
        """A stop reached a queued job (never launched, or waiting for spot capacity)."""
        self._forget_source(job.name)
        now = self.clock.now()
        secondary, message = finishing.stopped_status(job.stop_reason)
        if job.training_start_time is None and secondary == "Stopped":
            message = "Training job stopped before it started"
        attempts = self.store.attempts(job.name)
        if attempts and job.training_start_time is not None:  # it trained, then was interrupted
            finishing.upload_interrupted(self.settings, job, attempts[-1].hosts)
        self.store.update_training_job(
            job.name,
            now=now,
            status=JobStatus.STOPPED.value,
            secondary=secondary,
            message=message,
            phase=Phase.DONE.value,
            training_end_time=now if job.training_start_time is not None else None,
        )

    def _fail_unlaunched(self, job: TrainingJob, reason: str) -> None:
        self._forget_source(job.name)
        now = self.clock.now()
        self.store.update_training_job(
            job.name,
            now=now,
            status=JobStatus.FAILED.value,
            secondary="Failed",
            message="Training job failed",
            failure_reason=reason,
            phase=Phase.DONE.value,
            training_end_time=now if job.training_start_time is not None else None,
        )

    # ----------------------------------------------------------------- adoption after a restart
    def _adopt_orphans(self) -> None:
        live = live_controllers(self.store, self.clock.now()) | {self.id}
        for job in self.store.jobs_owned_by_others(self.id):
            if job.owner in live or not self.store.claim(job.name, self.id, previous=job.owner):
                continue
            log.info("adopting %s from %s", job.name, job.owner)
            self._adopt(job)
        for controller in self.store.controllers():
            if controller.id not in live:
                self.store.remove_controller(controller.id)

    def _adopt(self, job: TrainingJob) -> None:
        attempts = self.store.attempts(job.name)
        running = attempts[-1] if attempts and attempts[-1].status == AttemptStatus.RUNNING else None
        if job.phase == Phase.QUEUED or running is None:
            # Claimed but never launched: put it back in the queue.
            self.store.update_training_job(
                job.name, now=self.clock.now(), owner=None, phase=Phase.QUEUED.value
            )
            return
        sup = self._supervision(job, running)
        sup.skip_stored_lines(self.store, self.executor)
        # The phases the previous control plane already recorded for this attempt are not recorded again.
        stored = self.store.get_training_job(job.name)
        sup.reported = {
            t.status
            for t in (stored.transitions if stored else ())
            if t.start_time >= running.launch_time and t.status in ("Downloading", "Training")
        }
        statuses = sup.statuses(self.executor)
        lost = [h for h, s in statuses.items() if not s.alive and s.result is None]
        self._kill_abandoned(sup, statuses)
        if lost and job.status == JobStatus.IN_PROGRESS:
            finishing.handle_lost(self.store, self.clock, job, running, lost)
            return
        self._supervised[job.name] = sup


def _capacity_error(
    job: TrainingJob, need: capacity.Resources, machine: capacity.Resources, settings: Settings
) -> str:
    resource = job.request["ResourceConfig"]
    why = capacity.shortfall(
        resource["InstanceType"],
        int(resource["InstanceCount"]),
        need,
        machine,
        cluster=False,
        oversubscription=settings.oversubscription,
    )
    return f"CapacityError: Unable to provision requested ML compute capacity. {why}"


def _demand(job: TrainingJob) -> capacity.Resources:
    resource = job.request["ResourceConfig"]
    instance = instances.lookup(resource["InstanceType"])
    if instance is None:
        return capacity.Resources(0, 0, 0)
    return capacity.demand(instance, int(resource["InstanceCount"]))


def _restart_message(executor: str) -> str:
    """What a spot job says when its next attempt launches. On Ray the interruption was a lost node, and
    the new placement group may wait for room before any host starts: capacity is not back yet."""
    if executor == "ray":
        return "Restarting the job: waiting for the Ray cluster to place its hosts"
    return "Spot capacity is back: restarting the job"


def live_controllers(store: Store, now: float) -> set[str]:
    """The control planes that still run: a fresh heartbeat, and a live process where it can be told."""
    return {
        c.id
        for c in store.controllers()
        if now - c.heartbeat < DEAD_AFTER_SECONDS and recorded_process_alive(c.hostname, c.pid)
    }
