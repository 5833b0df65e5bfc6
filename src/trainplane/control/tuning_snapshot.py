"""Frozen ``Trial`` snapshots of a tuning job's children, for the strategies and stopping rules.

A child whose training job has ended is *finalised* here, once: its final status, objective and
per-epoch series are written to its launch record, so later snapshots (and warm-started children of
this job) never rescan its metric points.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trainplane.service.tuning import TuningService
from trainplane.service.tuning_definitions import OBJECTIVE_KEY, definitions
from trainplane.service.tuning_describe import definition_of
from trainplane.states import JobStatus
from trainplane.store import Store
from trainplane.store.records import TrainingJob
from trainplane.store.tuning_repository import TuningChild, TuningJob
from trainplane.tuning import Trial, TrialStatus

_TRIAL_STATUS = {
    JobStatus.COMPLETED: TrialStatus.COMPLETED,
    JobStatus.STOPPED: TrialStatus.STOPPED,
    JobStatus.FAILED: TrialStatus.FAILED,
}


@dataclass(frozen=True)
class ChildState:
    child: TuningChild
    job: TrainingJob | None
    trial: Trial

    @property
    def terminal(self) -> bool:
        return self.trial.status.is_terminal()


@dataclass
class _Series:
    last_id: int = 0
    host: str | None = None
    final: float | None = None
    values: list[float] = field(default_factory=list)


class SeriesCache:
    """Each running child's objective series, read incrementally: every tick asks the store only for
    the points after the last one seen, so a child that reports a metric per step (millions of points)
    costs the tuner its new points, not all of them, each tick. Rebuilt from the store after a restart."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], _Series] = {}

    def read(self, store: Store, training_name: str, metric: str) -> tuple[float | None, list[float]]:
        """(final value: the last point from any host, per-epoch values: those of the first host to
        report) of one metric of one child."""
        series = self._series.setdefault((training_name, metric), _Series())
        for point_id, point in store.metric_points_after(training_name, metric, series.last_id):
            series.last_id = point_id
            series.host = point.host if series.host is None else series.host
            series.final = point.value
            if point.host == series.host:
                series.values.append(point.value)
        return series.final, series.values

    def forget(self, training_name: str) -> None:
        for key in [key for key in self._series if key[0] == training_name]:
            del self._series[key]


def snapshot(service: TuningService, job: TuningJob, cache: SeriesCache | None = None) -> list[ChildState]:
    jobs = {j.name: j for j in service.store.list_training_jobs(tuning_job_arn=job.arn)}
    cache = cache if cache is not None else SeriesCache()
    return [
        _state(service, job, child, jobs.get(child.training_job_name), cache)
        for child in service.tuning_store.children(job.name)
    ]


def _state(
    service: TuningService,
    job: TuningJob,
    child: TuningChild,
    training: TrainingJob | None,
    cache: SeriesCache,
) -> ChildState:
    if child.final_status is not None:
        status = _TRIAL_STATUS.get(JobStatus(child.final_status), TrialStatus.FAILED)
        trial = Trial(
            child.training_job_name,
            child.config,
            status,
            child.objective,
            child.intermediate or (),
            child.finished_at,
        )
        return ChildState(child, training, trial)
    if training is None and child.created:
        # Created, then deleted (DeleteTrainingJob) before its end was recorded here: it ran, but what it
        # reported is gone. Counted as failed so the tuning job does not wait for it forever.
        now = service.clock.now()
        service.tuning_store.update_child(job.name, child.index, final_status="Failed", finished_at=now)
        return ChildState(child, None, Trial(child.training_job_name, child.config, TrialStatus.FAILED))
    if training is None:
        return ChildState(child, None, Trial(child.training_job_name, child.config, TrialStatus.PENDING))
    metric = definition_of(job, child).metric_name
    final, series = cache.read(service.store, training.name, metric)
    ended = JobStatus(training.status)
    if not ended.is_terminal():
        trial = Trial(training.name, child.config, TrialStatus.RUNNING, final, tuple(series))
        return ChildState(child, training, trial)
    cache.forget(training.name)
    finished = training.training_end_time or training.last_modified_time
    service.tuning_store.update_child(
        job.name,
        child.index,
        final_status=ended.value,
        objective=final,
        intermediate=series,
        finished_at=finished,
    )
    trial = Trial(training.name, child.config, _TRIAL_STATUS[ended], final, tuple(series), finished)
    return ChildState(child, training, trial)


def parent_trials(service: TuningService, job: TuningJob) -> list[Trial]:
    """Warm start: the finished children of every parent, configs widened by the parent's static
    hyperparameters (a parameter static there may be tunable here)."""
    warm = job.request.get("WarmStartConfig")
    if not warm:
        return []
    trials = []
    # A parent named twice (names are case-insensitive) seeds its children once, not with double weight.
    names = dict.fromkeys(
        item["HyperParameterTuningJobName"].lower() for item in warm["ParentHyperParameterTuningJobs"]
    )
    for name in names:
        parent = service.tuning_store.get_tuning_job(name)
        if parent is None:
            continue
        static = {k: v for k, v in definitions(parent.request)[0].static.items() if k != OBJECTIVE_KEY}
        for state in snapshot(service, parent):
            if state.trial.has_result:
                t = state.trial
                trials.append(
                    Trial(t.id, {**static, **t.config}, t.status, t.objective, t.intermediate, t.finished_at)
                )
    return trials
