"""Ending an attempt: deciding the outcome, uploading artifacts, writing the terminal status.

Also the path for hosts that vanished without a result (the control plane or the machine died): the
job is re-queued under its RetryStrategy, or failed with a reason that says what happened.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainplane.clock import Clock
from trainplane.control.supervision import Supervision
from trainplane.executors.base import HostStatus
from trainplane.settings import Settings
from trainplane.states import AttemptStatus, JobStatus, Phase
from trainplane.store import Store
from trainplane.store.records import Attempt, TrainingJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: JobStatus  # Completed | Failed | Stopped
    secondary: str
    message: str
    failure_reason: str | None
    upload: bool
    exit_code: int | None
    hosts_ended_at: float | None = None  # when the last host reported its result (its agent's clock)
    lost_host: str | None = None  # the failure is that host's agent vanished: an internal error


def outcome_of(
    job: TrainingJob, statuses: dict[str, HostStatus], killed: bool, lost_at: dict[str, float] | None = None
) -> Outcome:
    """What an attempt whose hosts all exited means for the job. ``lost_at``: when hosts whose agent
    ended without a result were first seen so (``Supervision.agents_lost``)."""
    times = [r["time"] for s in statuses.values() if (r := s.result) is not None and "time" in r]
    return dataclasses.replace(_outcome(job, statuses, lost_at), hosts_ended_at=max(times) if times else None)


def _outcome(job: TrainingJob, statuses: dict[str, HostStatus], lost_at: dict[str, float] | None) -> Outcome:
    if job.status == JobStatus.STOPPING or job.stop_reason:
        secondary, message = stopped_status(job.stop_reason)
        return Outcome(JobStatus.STOPPED, secondary, message, None, True, None)
    # The host that failed first explains the failure: the others were then stopped by us (exit 143).
    # A lost host counts from when it was seen lost: then the others' 143s came after, and our kills
    # at the end of the grace period (which leave no result either) came after the first failure.
    failed = sorted(
        (result.get("time", float("inf")), host, result)
        for host, status in statuses.items()
        if (result := status.result) is not None and result.get("exit_code") != 0
    )
    lost = sorted((at, host) for host, at in (lost_at or {}).items() if statuses[host].result is None)
    if lost and (not failed or lost[0][0] < failed[0][0]):
        return _lost_outcome(lost[0][1], statuses[lost[0][1]])
    if failed:
        _, _, result = failed[0]
        reason = result.get("failure_reason") or f"AlgorithmError: exit code {result.get('exit_code')}"
        return Outcome(
            JobStatus.FAILED, "Failed", "Training job failed", reason, False, result.get("exit_code")
        )
    for host in sorted(statuses):
        if statuses[host].result is None:
            return _lost_outcome(host, statuses[host])
    return Outcome(JobStatus.COMPLETED, "Completed", "Training job completed", None, True, 0)


def _lost_outcome(host: str, status: HostStatus) -> Outcome:
    detail = status.detail or "killed by the operating system, or out of memory?"
    reason = (
        f"InternalServerError: Host {host} was lost: its agent process ended without reporting a "
        f"result ({detail})."
    )
    return Outcome(JobStatus.FAILED, "Failed", "Training job failed", reason, False, None, lost_host=host)


def stopped_status(stop_reason: str | None) -> tuple[str, str]:
    """The final SecondaryStatus and message of a stopped job, by why it was stopped."""
    if stop_reason == "MaxRuntimeExceeded":
        return "MaxRuntimeExceeded", "Training job stopped: MaxRuntimeInSeconds exceeded"
    if stop_reason == "MaxWaitTimeExceeded":
        return "MaxWaitTimeExceeded", "Training job stopped: MaxWaitTimeInSeconds exceeded"
    return "Stopped", "Training job stopped"


def finish(
    store: Store,
    settings: Settings,
    clock: Clock,
    name: str,
    sup: Supervision,
    outcome: Outcome,
    owner: str,
) -> None:
    job = store.get_training_job(name)
    if job is None:
        return
    # Hosts that ended while no control plane watched (it was down) ended then, not now: the upload and
    # the end are dated as if it had started when they ended, so the downtime is neither training nor
    # billed. Only a result dated in this clock's range counts (a fake clock's tests, other machines).
    seen = clock.now()
    ended = outcome.hosts_ended_at
    late = seen - ended if ended is not None and sup.launch_time <= ended <= seen else 0.0
    # Never before the transition now open: Downloading and Training are dated when the control plane
    # saw them, which can be after a fast-failing host's own result time.
    if job.transitions:
        late = max(0.0, min(late, seen - job.transitions[-1].start_time))
    store.update_training_job(
        name, now=seen - late, phase=Phase.FINISHING.value, expected_owner=owner, check_owner=True
    )
    status, secondary, message, reason = (
        outcome.status,
        outcome.secondary,
        with_sync_warning(outcome.message, sup),
        outcome.failure_reason,
    )
    if outcome.upload:
        store.update_training_job(
            name, now=clock.now() - late, secondary="Uploading", message="Uploading generated training model"
        )
        try:
            _upload_hosts(settings, job, sup.hosts)
        except Exception as exc:  # a storage failure fails the job with a readable reason
            status, secondary, message = JobStatus.FAILED, "Failed", "Training job failed"
            detail = str(exc).removeprefix("ClientError: ")
            reason = f"ClientError: Could not upload the model artifacts to {job.model_artifacts}: {detail}"
    current = store.get_training_job(name) or job
    if status == JobStatus.COMPLETED and current.stop_reason:
        # StopTrainingJob arrived while the job was uploading: it ends Stopped, its model uploaded.
        status = JobStatus.STOPPED
        secondary, message = stopped_status(current.stop_reason)
    end = clock.now() - late
    if current.transitions:  # not before a transition added meanwhile (Stopping)
        end = max(end, current.transitions[-1].start_time)
    attempt_status = {
        JobStatus.COMPLETED: AttemptStatus.SUCCEEDED,
        JobStatus.STOPPED: AttemptStatus.STOPPED,
    }.get(status, AttemptStatus.FAILED)
    store.update_attempt(
        name,
        sup.attempt,
        status=attempt_status.value,
        end_time=end,
        exit_code=outcome.exit_code,
        reason=reason,
    )
    store.update_training_job(
        name,
        now=end,
        status=status.value,
        secondary=secondary,
        message=message,
        failure_reason=reason,
        training_end_time=end if job.training_start_time is not None else None,
        phase=Phase.DONE.value,
    )
    _discard_staged_data(sup)


def with_sync_warning(message: str, sup: Supervision) -> str:
    """Checkpoint-sync failures reach the job's status messages: the next transitions carry them."""
    if sup.sync_warning is None:
        return message
    return f"{message} (checkpoint sync failing: {sup.sync_warning})"[:1024]


def end_interrupted(store: Store, clock: Clock, name: str, sup: Supervision, owner: str) -> None:
    """A spot attempt's hosts are gone after the notice: record it and queue the job for capacity.

    The model and output of an interrupted attempt are not uploaded: the next attempt starts with
    empty /opt/ml/model and /opt/ml/output and resumes from the synced checkpoints (spec §10.2).
    """
    from trainplane.control.spot import ATTEMPT_INTERRUPTED

    now = clock.now()
    store.update_attempt(
        name, sup.attempt, status=ATTEMPT_INTERRUPTED, end_time=now, reason="Spot capacity interrupted"
    )
    store.update_training_job(
        name,
        now=now,
        secondary="Interrupted",
        message=with_sync_warning("Spot capacity interrupted; waiting for spot capacity", sup),
        phase=Phase.QUEUED.value,
        owner=None,
        expected_owner=owner,
        check_owner=True,
    )
    _discard_staged_data(sup)


def upload_interrupted(settings: Settings, job: TrainingJob, hosts: list[dict[str, Any]]) -> None:
    """A job stopped while it waited for spot capacity after an interruption still ends with the model
    and output a Stopped job has (reference §4.4): those its last, interrupted attempt left."""
    try:
        _upload_hosts(settings, job, hosts)
    except Exception:  # the job is Stopped either way; its artifacts are what is missing
        log.exception("uploading the artifacts of %s after its interruption failed", job.name)


def _upload_hosts(settings: Settings, job: TrainingJob, hosts: list[dict[str, Any]]) -> None:
    from trainplane.runtime.packaging import package_artifacts
    from trainplane.storage import open_storage

    storage = open_storage(settings.local_s3_root, settings.s3_endpoint_url)
    roots = [Path(record["root"]) for record in hosts]
    output = job.request["OutputDataConfig"]
    # The tar files are written beside the hosts' roots, inside the home: what a control plane killed
    # mid-upload left there is removed by the next upload (or with the job), never left in /tmp.
    work_dir = roots[0].parent / ".packaging"
    shutil.rmtree(work_dir, ignore_errors=True)
    try:
        package_artifacts(
            storage,
            model_dirs=[root / "model" for root in roots],
            output_data_dirs=[root / "output" / "data" for root in roots],
            s3_output_path=output["S3OutputPath"],
            job_name=job.name,
            compression=output.get("CompressionType", "GZIP"),
            work_dir=work_dir,
        )
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _discard_staged_data(sup: Supervision) -> None:
    """Staged channel copies can be large; model, output and logs stay for inspection."""
    for record in sup.hosts:
        shutil.rmtree(Path(record["root"]) / "input" / "data", ignore_errors=True)


def handle_lost(
    store: Store,
    clock: Clock,
    job: TrainingJob,
    attempt: Attempt,
    lost_hosts: list[str],
    why: str = "ended while the control plane was not running, without reporting a result",
) -> None:
    """Hosts vanished (no result while no control plane watched, or their node was lost): retry under
    the job's RetryStrategy or fail with the reason — never hang."""
    reason = f"InternalServerError: The training process of {', '.join(lost_hosts)} {why}."
    retry_or_fail(store, clock, job, attempt, reason)


def end_lost(store: Store, clock: Clock, job: TrainingJob, sup: Supervision, reason: str) -> None:
    """A supervised attempt one of whose agents vanished without a result (killed, out of memory)."""
    attempt = next(a for a in store.attempts(job.name) if a.number == sup.attempt)
    retry_or_fail(store, clock, job, attempt, reason)
    _discard_staged_data(sup)


def retry_or_fail(store: Store, clock: Clock, job: TrainingJob, attempt: Attempt, reason: str) -> None:
    """An attempt ended by an internal error (a host lost, not the algorithm failing) is retried while
    the job's RetryStrategy allows, as SageMaker retries InternalServerError; else the job fails."""
    now = clock.now()
    store.update_attempt(
        job.name, attempt.number, status=AttemptStatus.LOST.value, end_time=now, reason=reason
    )
    retry = job.request.get("RetryStrategy") or {}
    allowed = int(retry.get("MaximumRetryAttempts", 0))
    if job.retries_used < allowed:
        attempt_no = job.retries_used + 1
        store.update_training_job(
            job.name,
            now=now,
            secondary="Starting",
            message=f"Restarting the training job after an internal error (retry {attempt_no} of {allowed})",
            new_transition=True,
            retries_used=job.retries_used + 1,
            phase=Phase.QUEUED.value,
            owner=None,
        )
        return
    store.update_training_job(
        job.name,
        now=now,
        status=JobStatus.FAILED.value,
        secondary="Failed",
        message="Training job failed",
        failure_reason=reason,
        training_end_time=now if job.training_start_time is not None else None,
        phase=Phase.DONE.value,
    )
