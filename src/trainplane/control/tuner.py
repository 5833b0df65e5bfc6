"""The tuner: the control loop that turns tuning jobs into child training jobs (ask/tell).

It runs once per reconciler tick (``Reconciler.add_participant``). For each InProgress or Stopping
tuning job this control plane owns, it (1) creates any recorded child whose training job does not exist
yet (crash recovery), (2) snapshots the children and finalises the ended ones, (3) stops running
children that early stopping (Auto: the median rule; Hyperband: its own rule) condemns, (4) evaluates
the completion criteria, runtime limit and (extension) dollar budget, (5) launches children up to
MaxParallelTrainingJobs, and (6) ends the tuning job once nothing is left to launch and every child
has ended.

A launch is recorded first (its index, deterministic name, configuration and the strategy states that
produced it, in one transaction) and only then created, so a control plane killed at any moment leaves
either no trace of a launch or a record that the next owner completes: never a lost or doubled child.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from trainplane.clock import Clock
from trainplane.control import tuning_cost
from trainplane.control.tuning_snapshot import ChildState, SeriesCache, parent_trials, snapshot
from trainplane.errors import ApiError, ResourceInUse
from trainplane.liveness import recorded_process_alive
from trainplane.service.tuning import TuningService
from trainplane.service.tuning_definitions import (
    Definition,
    build_strategies,
    builtin_child_definitions,
    child_name,
    child_request,
    definitions,
)
from trainplane.service.tuning_rules import grid_combinations
from trainplane.store.tuning_repository import TuningChild, TuningJob
from trainplane.tuning import (
    CompletionCriteria,
    Direction,
    History,
    MedianStoppingRule,
    Strategy,
    Trial,
    TrialStatus,
    check_completion,
    epoch_count,
    parse_parameter_ranges,
)

log = logging.getLogger(__name__)
DEAD_AFTER_SECONDS = 10.0
FAIL_AFTER = (
    5  # children failed with none succeeded: the tuning job fails (SageMaker's threshold is unpublished)
)


@dataclass
class _Driven:
    """In-memory cache for one owned tuning job; everything here can be rebuilt from the store."""

    strategies: list[Strategy]
    launched: int
    parents: list[Trial]
    checked: dict[str, int] = field(default_factory=dict)  # child -> epochs already judged
    costs: dict[str, float] = field(default_factory=dict)  # finished child -> dollars (cost-aware mode)
    finished_costs: dict[str, float] = field(default_factory=dict)  # ended child -> dollars (budget)


class Tuner:
    def __init__(self, service: TuningService, clock: Clock, owner: str) -> None:
        self.service, self.clock, self.owner = service, clock, owner
        self.store, self.tuning_store = service.store, service.tuning_store
        self._driven: dict[str, _Driven] = {}
        self._median = MedianStoppingRule()
        self._series = SeriesCache()  # running children's objective series, read incrementally

    def tick(self) -> bool:
        """Drive every live tuning job this control plane owns (claiming those of dead owners); True
        while it drives any, so the reconciler calls it on every tick until they end."""
        jobs = self.tuning_store.list_tuning_jobs(statuses=["InProgress", "Stopping"])
        live: set[str] | None = None
        driving = False
        for job in jobs:
            if job.owner != self.owner:
                live = live if live is not None else self._live_controllers()
                if job.owner in live or not self.tuning_store.claim(job.name, self.owner, previous=job.owner):
                    continue
                self._driven.pop(job.name.lower(), None)
            self._drive(job)
            driving = True
        return driving

    def _live_controllers(self) -> set[str]:
        now = self.clock.now()
        return {
            c.id
            for c in self.store.controllers()
            if now - c.heartbeat < DEAD_AFTER_SECONDS and recorded_process_alive(c.hostname, c.pid)
        }

    # ------------------------------------------------------------------ one tuning job
    def _drive(self, job: TuningJob) -> None:
        driven = self._cache(job)
        for child in self.tuning_store.children(job.name):
            if not child.created and child.final_status is None:
                self._create(job, child)
        states = snapshot(self.service, job, self._series)
        direction = Direction(definitions(job.request)[0].objective["Type"])
        if job.status == "InProgress":
            self._early_stop(job, driven, states, direction)
            job, spending = self._check_completion(job, driven, states, direction)
            if not job.completion.get("reason"):
                self._launch(job, driven, states, direction, None if spending is None else spending.room())
                states = snapshot(self.service, job, self._series)
        self._finish_if_done(job, states)

    def _cache(self, job: TuningJob) -> _Driven:
        key = job.name.lower()
        driven = self._driven.get(key)
        if driven is None or driven.launched != job.launched:
            strategies = build_strategies(job.request)
            for strategy, state in zip(strategies, job.strategy_state["definitions"], strict=True):
                strategy.load_state_dict(state)
            driven = _Driven(strategies, job.launched, parent_trials(self.service, job))
            self._driven[key] = driven
        return driven

    def _history(
        self, driven: _Driven, states: list[ChildState], direction: Direction, definition: str | None
    ) -> History:
        own = [s.trial for s in states if s.child.definition_name == definition]
        if any(getattr(s, "cost_aware", False) for s in driven.strategies):
            own = [self._priced(driven, t) for t in own]
        return History(tuple(driven.parents) + tuple(own), direction)

    def _priced(self, driven: _Driven, trial: Trial) -> Trial:
        """The trial with its dollar cost (cached once finished: a finished child's cost never changes)."""
        if not trial.has_result:
            return trial
        cost = driven.costs.get(trial.id)
        if cost is None:
            cost = tuning_cost.child_cost(self.service, trial.id, self.clock.now())
            if cost is None:
                return trial
            driven.costs[trial.id] = cost
        return dataclasses.replace(trial, cost=cost)

    # ------------------------------------------------------------------ early stopping
    def _early_stop(
        self, job: TuningJob, driven: _Driven, states: list[ChildState], direction: Direction
    ) -> None:
        auto = job.request["HyperParameterTuningJobConfig"].get("TrainingJobEarlyStoppingType") == "Auto"
        defs = definitions(job.request)
        for state in states:
            trial = state.trial
            epochs = len(trial.intermediate)
            if trial.status is not TrialStatus.RUNNING or epochs <= driven.checked.get(trial.id, 0):
                continue
            driven.checked[trial.id] = epochs
            position = next(i for i, d in enumerate(defs) if d.name == state.child.definition_name)
            own = epoch_count({**defs[position].static, **trial.config})
            if own is not None and epochs >= own:
                # It has trained every epoch and is ending by itself: a stop now would race that end,
                # so the same child would end Completed or Stopped by chance.
                continue
            history = self._history(driven, states, direction, state.child.definition_name)
            if driven.strategies[position].should_stop(trial, history) or (
                auto and self._median.should_stop(trial, history)
            ):
                self._stop_child(job, state.child, f"early stopping after {epochs} objective reports")

    def _stop_child(self, job: TuningJob, child: TuningChild, why: str) -> None:
        stopped = self.store.request_stop(
            child.training_job_name,
            reason="Stopped",
            now=self.clock.now(),
            message=f"Stopping the training job: {why}",
        )
        if stopped is not None:
            self.tuning_store.update_child(job.name, child.index, early_stopped=True)

    # ------------------------------------------------------------------ completion
    def _check_completion(
        self, job: TuningJob, driven: _Driven, states: list[ChildState], direction: Direction
    ) -> tuple[TuningJob, tuning_cost.Budget | None]:
        """The tuning job with its completion reason, once launching has ended, and its dollar budget."""
        config = job.request["HyperParameterTuningJobConfig"]
        criteria = CompletionCriteria.from_api(config.get("TuningJobCompletionCriteria"))
        status = check_completion(criteria, History(tuple(s.trial for s in states), direction))
        completion = dict(job.completion)
        completion["jobs_not_improving"] = status.jobs_not_improving
        if status.converged and completion.get("convergence_time") is None:
            completion["convergence_time"] = self.clock.now()
        reason = completion.get("reason") or (status.reason.value if status.reason else None)
        limit = config["ResourceLimits"].get("MaxRuntimeInSeconds")
        if reason is None and limit is not None and self.clock.now() - job.creation_time >= limit:
            reason = "MaxRuntimeInSeconds"
            self._stop_running(job, states, f"the tuning job's MaxRuntimeInSeconds ({limit} s) was exceeded")
        # The cap holds whatever else ended the launching: children still running are stopped once
        # the spend reaches it.
        spending = tuning_cost.budget(self.service, job, states, self.clock.now(), driven.finished_costs)
        if spending is not None and spending.exhausted:
            if any(not s.terminal for s in states):
                self._stop_running(job, states, "the tuning job's dollar budget is spent")
                completion["budget_stopped"] = True
            reason = reason or tuning_cost.REASON
        if reason is None and spending is not None and spending.full:
            reason = tuning_cost.REASON
        if reason is None and _failing(states):
            reason = "ChildrenFailed"
        if reason is not None:
            completion["reason"] = reason
        if completion == job.completion:
            return job, spending
        updated = self.tuning_store.update_tuning_job(job.name, now=self.clock.now(), completion=completion)
        return updated or job, spending

    def _stop_running(self, job: TuningJob, states: list[ChildState], why: str) -> None:
        for state in states:
            if not state.terminal:
                self._stop_child(job, state.child, why)

    # ------------------------------------------------------------------ launching
    def _launch(
        self,
        job: TuningJob,
        driven: _Driven,
        states: list[ChildState],
        direction: Direction,
        room: int | None,
    ) -> None:
        """Launch children up to MaxParallelTrainingJobs, and up to ``room`` of them (the dollar budget's
        allowance; None without one)."""
        limits = job.request["HyperParameterTuningJobConfig"]["ResourceLimits"]
        max_jobs = limits.get("MaxNumberOfTrainingJobs") or grid_combinations(_spaces(job))
        active = sum(1 for s in states if not s.terminal)
        defs = definitions(job.request)
        trials = list(s for s in states)
        while job.launched < max_jobs and active < limits["MaxParallelTrainingJobs"]:
            if room is not None and room <= 0:
                return
            room = None if room is None else room - 1
            index = job.launched + 1
            choice = self._suggest(driven, trials, direction, defs, index)
            if choice is None:
                self.tuning_store.update_tuning_job(
                    job.name,
                    now=self.clock.now(),
                    completion={**job.completion, "reason": "StrategyExhausted"},
                )
                return
            definition, config = choice
            child = TuningChild(
                index, child_name(job.name, job.arn, job.creation_time, index), definition.name, config
            )
            state = {"definitions": [s.state_dict() for s in driven.strategies]}
            if not self.tuning_store.record_launch(
                job.name, owner=self.owner, child=child, strategy_state=state, now=self.clock.now()
            ):
                self._driven.pop(job.name.lower(), None)  # someone else moved on: reload next tick
                return
            driven.launched = index
            job = self.tuning_store.get_tuning_job(job.name) or job
            pending = Trial(child.training_job_name, config, TrialStatus.PENDING)
            trials.append(ChildState(child, None, pending))
            self._create(job, child)
            active += 1

    def _suggest(
        self,
        driven: _Driven,
        states: list[ChildState],
        direction: Direction,
        defs: list[Definition],
        index: int,
    ) -> tuple[Definition, dict[str, str]] | None:
        """Definitions take turns (launch i starts at definition i mod n); the first with a proposal wins."""
        for step in range(len(defs)):
            position = (index - 1 + step) % len(defs)
            definition = defs[position]
            config = driven.strategies[position].suggest(
                self._history(driven, states, direction, definition.name)
            )
            if config is not None:
                return definition, config
        return None

    def _create(self, job: TuningJob, child: TuningChild) -> None:
        definition = next(d for d in definitions(job.request) if d.name == child.definition_name)
        request = child_request(
            definition,
            child.training_job_name,
            child.config,
            self.store.list_tags(job.arn),
            self.service.training.fits,
        )
        try:
            self.service.training.create_training_job(request, tuning_job_arn=job.arn)
        except ResourceInUse:
            existing = self.store.get_training_job(child.training_job_name)
            if existing is None or existing.tuning_job_arn != job.arn:
                self._refuse(job, child, "a training job with this name already exists")
                return
        except ApiError as exc:
            self._refuse(job, child, str(exc))
            return
        else:
            self._fill_builtin_metrics(definition, child)
        self.tuning_store.update_child(job.name, child.index, created=True)

    def _fill_builtin_metrics(self, definition: Definition, child: TuningChild) -> None:
        # Built-in children get the algorithm's full MetricDefinitions plus ObjectiveMetric, as SageMaker
        # echoes them; that exceeds CreateTrainingJob's limit of 40, so it is set right after creation,
        # in this tick, before the reconciler's next launch pass reads it.
        metrics = builtin_child_definitions(definition)
        training = self.store.get_training_job(child.training_job_name)
        if metrics is None or training is None or training.phase != "queued":
            return
        request = dict(training.request)
        request["AlgorithmSpecification"] = {
            **request["AlgorithmSpecification"],
            "MetricDefinitions": metrics,
        }
        self.store.update_training_job(training.name, now=self.clock.now(), request=request)

    def _refuse(self, job: TuningJob, child: TuningChild, why: str) -> None:
        log.warning("tuning job %s: child %s not created: %s", job.name, child.training_job_name, why)
        self.tuning_store.update_child(
            job.name, child.index, created=True, final_status="Failed", finished_at=self.clock.now()
        )

    # ------------------------------------------------------------------ ending
    def _finish_if_done(self, job: TuningJob, states: list[ChildState]) -> None:
        current = self.tuning_store.get_tuning_job(job.name)
        if current is None or not all(s.terminal for s in states):
            return
        limits = current.request["HyperParameterTuningJobConfig"]["ResourceLimits"]
        max_jobs = limits.get("MaxNumberOfTrainingJobs") or grid_combinations(_spaces(current))
        if (
            current.status == "InProgress"
            and not current.completion.get("reason")
            and current.launched < max_jobs
        ):
            return
        fields: dict[str, Any] = {"status": "Completed", "end_time": self.clock.now(), "owner": None}
        if current.status == "Stopping":
            fields["status"] = "Stopped"
        elif _all_failed(states):
            fields["status"] = "Failed"
            fields["failure_reason"] = _failure_reason(states)
        self.tuning_store.update_tuning_job(job.name, now=self.clock.now(), **fields)
        self._driven.pop(job.name.lower(), None)


def _spaces(job: TuningJob) -> list[Any]:
    return [parse_parameter_ranges(d.ranges) for d in definitions(job.request)]


def _failing(states: list[ChildState]) -> bool:
    failed = sum(1 for s in states if s.trial.status is TrialStatus.FAILED)
    return failed >= FAIL_AFTER and not any(s.trial.has_result for s in states)


def _all_failed(states: list[ChildState]) -> bool:
    """No child produced an objective value and at least one failed (children merely stopped before
    reporting, by a runtime limit or budget, do not make the tuning job Failed)."""
    failed = any(s.trial.status is TrialStatus.FAILED for s in states)
    return failed and not any(s.trial.has_result for s in states)


def _failure_reason(states: list[ChildState]) -> str:
    if not states:
        return "No training job was launched."
    failed = [s for s in states if s.trial.status is TrialStatus.FAILED]
    example = next((s.job.failure_reason for s in failed if s.job is not None and s.job.failure_reason), None)
    text = f"All {len(states)} training jobs failed or reported no objective metric value."
    return f"{text} For example: {example}"[:1024] if example else text
