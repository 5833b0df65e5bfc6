"""Frozen ``Trial`` snapshots of a tuning job's children, for the strategies and stopping rules.

A child whose training job has ended is *finalised* here, once: its final status, objective and
per-epoch series are written to its launch record, so later snapshots (and warm-started children of
this job) never rescan its metric points.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainplane.service.tuning import TuningService
from trainplane.service.tuning_definitions import OBJECTIVE_KEY, definitions
from trainplane.service.tuning_describe import definition_of, objective_series
from trainplane.states import JobStatus
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


def snapshot(service: TuningService, job: TuningJob) -> list[ChildState]:
    jobs = {j.name: j for j in service.store.list_training_jobs(tuning_job_arn=job.arn)}
    return [
        _state(service, job, child, jobs.get(child.training_job_name))
        for child in service.tuning_store.children(job.name)
    ]


def _state(
    service: TuningService, job: TuningJob, child: TuningChild, training: TrainingJob | None
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
    if training is None:
        return ChildState(child, None, Trial(child.training_job_name, child.config, TrialStatus.PENDING))
    metric = definition_of(job, child).metric_name
    final, series = objective_series(service.store.metric_points(training.name), metric)
    ended = JobStatus(training.status)
    if not ended.is_terminal():
        trial = Trial(training.name, child.config, TrialStatus.RUNNING, final, tuple(series))
        return ChildState(child, training, trial)
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
    for item in warm["ParentHyperParameterTuningJobs"]:
        parent = service.tuning_store.get_tuning_job(item["HyperParameterTuningJobName"])
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
