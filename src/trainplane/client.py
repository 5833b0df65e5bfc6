"""The Python API: SageMaker's training operations in-process, named and shaped as boto3's client.

    from trainplane import TrainPlane

    with TrainPlane(home="/tmp/tp") as tp:
        tp.create_training_job(TrainingJobName="demo", ...)
        tp.wait_for_training_job("demo")
        print(tp.describe_training_job(TrainingJobName="demo")["TrainingJobStatus"])

Requests and responses are the boto3 shapes (times as ``datetime``). Errors raise ``trainplane.errors``
exceptions carrying SageMaker's error code. By default a background reconciler runs the jobs; jobs still
running when the object is closed keep running and are adopted by the next control plane.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from trainplane.clock import Clock
from trainplane.platform import Platform, build_platform
from trainplane.settings import Settings, load_settings
from trainplane.states import JobStatus
from trainplane.store.records import LogEvent

# How often a wait reads the store while this process's control plane drives the job (its status changes
# wake the wait at once; this only covers a change made by another process, e.g. a deletion).
LOCAL_FALLBACK_SECONDS = 1.0
LOG_PAGE = 10_000  # log lines read from the store at a time


class TrainPlane:
    def __init__(
        self,
        home: str | Path | None = None,
        *,
        settings: Settings | None = None,
        environ: Mapping[str, str] | None = None,
        run_jobs: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or load_settings(environ, home=home)
        self._platform: Platform = build_platform(self.settings, clock=clock, control=run_jobs)
        if self._platform.reconciler is not None:
            self._platform.reconciler.start()

    # --------------------------------------------------------------- SageMaker operations
    def create_training_job(self, **request: Any) -> dict[str, Any]:
        return self._platform.training.create_training_job(request)

    def describe_training_job(self, **request: Any) -> dict[str, Any]:
        return self._platform.training.describe_training_job(request)

    def list_training_jobs(self, **request: Any) -> dict[str, Any]:
        return self._platform.training.list_training_jobs(request)

    def stop_training_job(self, **request: Any) -> dict[str, Any]:
        return self._platform.training.stop_training_job(request)

    def delete_training_job(self, **request: Any) -> dict[str, Any]:
        return self._platform.training.delete_training_job(request)

    def add_tags(self, **request: Any) -> dict[str, Any]:
        return self._platform.training.add_tags(request)

    def list_tags(self, **request: Any) -> dict[str, Any]:
        return self._platform.training.list_tags(request)

    def delete_tags(self, **request: Any) -> dict[str, Any]:
        return self._platform.training.delete_tags(request)

    def create_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        return self._platform.tuning.create_hyper_parameter_tuning_job(request)

    def describe_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        return self._platform.tuning.describe_hyper_parameter_tuning_job(request)

    def list_hyper_parameter_tuning_jobs(self, **request: Any) -> dict[str, Any]:
        return self._platform.tuning.list_hyper_parameter_tuning_jobs(request)

    def list_training_jobs_for_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        return self._platform.tuning.list_training_jobs_for_hyper_parameter_tuning_job(request)

    def stop_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        return self._platform.tuning.stop_hyper_parameter_tuning_job(request)

    def delete_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        return self._platform.tuning.delete_hyper_parameter_tuning_job(request)

    # --------------------------------------------------------------- conveniences beyond boto3
    def wait_for_tuning_job(
        self, name: str, timeout: float | None = None, poll: float = 0.1
    ) -> dict[str, Any]:
        """Block until the tuning job is Completed, Failed or Stopped; returns its description.

        Polls the job's record alone and describes it (children's counters, best job) once at the end,
        for the reason ``wait_for_training_job`` gives.
        """
        self.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)  # unknown name: error
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self._platform.tuning.tuning_store.get_tuning_job(name)
            if job is None or job.status in ("Completed", "Failed", "Stopped"):  # None: deleted
                return self.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"Tuning job {name} still {job.status}")
            time.sleep(poll)

    def wait_for_training_job(
        self, name: str, timeout: float | None = None, poll: float = 0.1
    ) -> dict[str, Any]:
        """Block until the job is Completed, Failed or Stopped; returns its description.

        Reads the job's status alone and describes it once at the end: a full description (metrics,
        transitions) ten times a second cost the control plane's process ~8 % of a core for as long as a
        job ran, time taken from the job itself on a small machine. While this process's control plane
        drives the job, its status changes wake the wait at once and the store is read only every
        ``LOCAL_FALLBACK_SECONDS``; a job driven elsewhere (or still queued) is polled every ``poll``.
        """
        self.describe_training_job(TrainingJobName=name)  # ResourceNotFound for an unknown name
        store, reconciler = self._platform.store, self._platform.reconciler
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            seen = store.status_changes.generation()
            status = store.training_job_status(name)
            if status is None or JobStatus(status).is_terminal():  # None: deleted; describe says so
                return self.describe_training_job(TrainingJobName=name)
            now = time.monotonic()
            if deadline is not None and now > deadline:
                raise TimeoutError(f"Training job {name} still {status} after {timeout} s")
            local = reconciler is not None and reconciler.drives(name)
            wait = max(poll, LOCAL_FALLBACK_SECONDS) if local else poll
            store.status_changes.wait(seen, wait if deadline is None else min(wait, deadline - now))

    def log_events(self, name: str, after_id: int = 0, host: str | None = None) -> list[LogEvent]:
        """The job's log lines (every host, in order) after the event id ``after_id``."""
        return list(self.iter_log_events(name, after_id, host))

    def iter_log_events(self, name: str, after_id: int = 0, host: str | None = None) -> Iterator[LogEvent]:
        """``log_events``, read from the store a page at a time: a job may have millions of lines."""
        while True:
            page = self._platform.store.log_events(name, after_id=after_id, limit=LOG_PAGE)
            for event in page:
                if host is None or event.stream.split("/", 1)[1].startswith(f"{host}-"):
                    yield event
            if len(page) < LOG_PAGE:
                return
            after_id = page[-1].id

    def iter_all_training_jobs(self, **filters: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self.list_training_jobs(**filters, **({"NextToken": token} if token else {}))
            yield from page["TrainingJobSummaries"]
            token = page.get("NextToken")
            if not token:
                return

    @property
    def platform(self) -> Platform:
        return self._platform

    def close(self) -> None:
        self._platform.close()

    def __enter__(self) -> TrainPlane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
