"""Hyperparameter-tuning operations with SageMaker semantics (reference §6-§7).

Create validates and persists; the tuner (``trainplane.control.tuner``) launches the children. Unknown
tuning jobs raise ``ResourceNotFound``; names are case-insensitive for uniqueness and lookup.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from trainplane.clock import Clock
from trainplane.errors import ResourceInUse, ResourceNotFound, ValidationError
from trainplane.service import tuning_describe as shapes
from trainplane.service.arns import tuning_job_arn
from trainplane.service.pagination import decode_token, encode_token, list_filters
from trainplane.service.tags import check_new_tags
from trainplane.service.training import TrainingService
from trainplane.service.training_rules import check_create_training_job
from trainplane.service.tuning_builtin import check_builtin_hyperparameters
from trainplane.service.tuning_definitions import build_strategies, child_request, definitions
from trainplane.service.tuning_describe import ChildView
from trainplane.service.tuning_rules import check_added_tags, check_create_tuning_job
from trainplane.service.tuning_warm_start import check_warm_start
from trainplane.service.unsupported import check_runnable
from trainplane.service.validation import validate_input
from trainplane.settings import Settings
from trainplane.states import JobStatus
from trainplane.store import Store, TuningStore
from trainplane.store.tuning_repository import TuningJob, tuning_list_position
from trainplane.tuning import Direction, SearchSpace

# Each key is a tuple ending in a unique field, so that it orders children totally and a page's last
# key says where the next page starts (a NextToken holds it).
_CHILD_SORT: dict[str, Callable[[Any], tuple[Any, ...]]] = {  # over listed ChildViews (job set)
    "Name": lambda v: (v.child.training_job_name,),
    "CreationTime": lambda v: (v.job.creation_time, v.child.index),
    "Status": lambda v: (v.status, v.child.training_job_name),
    "FinalObjectiveMetricValue": lambda v: (v.objective, v.child.training_job_name),
}


class TuningService:
    def __init__(
        self,
        store: Store,
        tuning_store: TuningStore,
        training: TrainingService,
        settings: Settings,
        clock: Clock,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.store, self.tuning_store, self.training = store, tuning_store, training
        self.settings, self.clock = settings, clock
        self._on_change = on_change or (lambda: None)

    def set_on_change(self, callback: Callable[[], None]) -> None:
        self._on_change = callback

    # ------------------------------------------------------------------ create
    def create_hyper_parameter_tuning_job(self, params: dict[str, Any]) -> dict[str, Any]:
        request = json.loads(json.dumps(validate_input("CreateHyperParameterTuningJob", params)))
        spaces = check_create_tuning_job(request)
        check_new_tags((), request.get("Tags", []))
        name = request["HyperParameterTuningJobName"]
        if self.tuning_store.get_tuning_job(name) is not None:
            raise_in_use(name)
        check_warm_start(request, spaces, self.tuning_store.get_tuning_job, self.tuning_store.count_children)
        self._probe_children(request, spaces)
        strategies = build_strategies(request)
        arn = tuning_job_arn(self.settings.region, self.settings.account_id, name)
        self.tuning_store.create_tuning_job(
            name=name,
            arn=arn,
            request={k: v for k, v in request.items() if k != "Tags"},
            strategy_state={"definitions": [s.state_dict() for s in strategies]},
            now=self.clock.now(),
            tags=request.get("Tags", []),
        )
        self._on_change()
        return {"HyperParameterTuningJobArn": arn}

    def _probe_children(self, request: dict[str, Any], spaces: list[SearchSpace]) -> None:
        """Build one child per definition and check it as CreateTrainingJob would, so that a request
        whose children could never run fails now rather than child by child."""
        for definition, space in zip(definitions(request), spaces, strict=True):
            config = space.from_unit(np.full(space.dim, 0.5))
            request = child_request(definition, "probe", config, [], self.training.fits)
            child = validate_input("CreateTrainingJob", request)
            check_create_training_job(child)
            check_runnable(child)
            check_builtin_hyperparameters(definition, space)
            self.training.check_capacity(child["ResourceConfig"])

    def check_added_tags(self, kind: str, name: str, tags: list[dict[str, str]]) -> None:
        """AddTags' extra rules for a tuning job (TrainingService.register_tag_check)."""
        job = self.tuning_store.get_tuning_job(name) if kind == "hyper-parameter-tuning-job" else None
        if job is not None:
            check_added_tags(job.request, tags)

    # ------------------------------------------------------------------ describe / list
    def get(self, name: str) -> TuningJob:
        job = self.tuning_store.get_tuning_job(name)
        if job is None:
            raise ResourceNotFound(f"Amazon SageMaker can't find a tuning job named {name}.")
        return job

    def views(self, job: TuningJob) -> list[ChildView]:
        jobs = {j.name: j for j in self.store.list_training_jobs(tuning_job_arn=job.arn)}
        out = []
        for child in self.tuning_store.children(job.name):
            training = jobs.get(child.training_job_name)
            objective = child.objective
            if (
                child.final_status is None
                and training is not None
                and JobStatus(training.status).is_terminal()
            ):
                metric = shapes.definition_of(job, child).metric_name
                last = self.store.last_metric_point(training.name, metric)
                objective = None if last is None else last.value
            out.append(ChildView(child, training, objective))
        return out

    def describe_hyper_parameter_tuning_job(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("DescribeHyperParameterTuningJob", params)
        job = self.get(request["HyperParameterTuningJobName"])
        return shapes.describe(job, self.views(job), self.clock.now(), self._overall_best(job))

    def _overall_best(self, job: TuningJob) -> tuple[TuningJob, ChildView] | None:
        warm = job.request.get("WarmStartConfig")
        if not warm or warm["WarmStartType"] != "IdenticalDataAndAlgorithm":
            return None
        direction = Direction(definitions(job.request)[0].objective["Type"])
        candidates: list[tuple[TuningJob, ChildView]] = [(job, v) for v in self.views(job) if v.job]
        names = dict.fromkeys(
            p["HyperParameterTuningJobName"].lower() for p in warm["ParentHyperParameterTuningJobs"]
        )
        for name in names:
            parent = self.tuning_store.get_tuning_job(name)
            if parent is not None:
                candidates += [(parent, v) for v in self.views(parent) if v.job]
        winner = shapes.best([v for _, v in candidates], direction)
        return next((c for c in candidates if c[1] is winner), None) if winner else None

    def list_hyper_parameter_tuning_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("ListHyperParameterTuningJobs", params)
        limit = request.get("MaxResults", 10)
        filters = list_filters(request, default_sort="Name")
        after = decode_token(request.get("NextToken"), filters)
        jobs = self.tuning_store.list_tuning_jobs(**filters, after=after, limit=limit + 1)
        result: dict[str, Any] = {
            "HyperParameterTuningJobSummaries": [shapes.job_summary(j, self.views(j)) for j in jobs[:limit]]
        }
        if len(jobs) > limit:
            position = tuning_list_position(jobs[limit - 1], filters["sort_by"])
            result["NextToken"] = encode_token(position, filters)
        return result

    def list_training_jobs_for_hyper_parameter_tuning_job(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("ListTrainingJobsForHyperParameterTuningJob", params)
        job = self.get(request["HyperParameterTuningJobName"])
        views = [v for v in self.views(job) if v.job is not None]
        if request.get("StatusEquals"):
            views = [v for v in views if v.status == request["StatusEquals"]]
        sort_by = request.get("SortBy", "Name")
        descending = request.get("SortOrder", "Ascending") == "Descending"
        if sort_by == "FinalObjectiveMetricValue":
            views = [v for v in views if v.objective is not None and v.terminal]
        key = _CHILD_SORT[sort_by]
        views.sort(key=key, reverse=descending)
        limit = request.get("MaxResults", 10)
        filters = {
            k: request.get(k) for k in ("HyperParameterTuningJobName", "StatusEquals", "SortBy", "SortOrder")
        }
        after = decode_token(request.get("NextToken"), filters)
        if after is not None:  # continue after the last child of the previous page, wherever it is now
            views = [v for v in views if (key(v) < after if descending else key(v) > after)]
        page = views[:limit]
        result: dict[str, Any] = {"TrainingJobSummaries": [shapes.child_summary(job, v) for v in page]}
        if len(views) > limit:
            result["NextToken"] = encode_token(key(page[-1]), filters)
        return result

    # ------------------------------------------------------------------ stop / delete
    def stop_hyper_parameter_tuning_job(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("StopHyperParameterTuningJob", params)
        job = self.get(request["HyperParameterTuningJobName"])
        if not self.tuning_store.request_stop(job.name, now=self.clock.now()):
            current = self.get(job.name)
            raise ValidationError(
                f"The request was rejected because the tuning job is in status {current.status}."
            )
        self.stop_children(job, "Stopping the training job: its tuning job is being stopped")
        self._on_change()
        return {}

    def stop_children(self, job: TuningJob, message: str) -> None:
        for child in self.tuning_store.children(job.name):
            if child.final_status is None:
                self.store.request_stop(
                    child.training_job_name, reason="Stopped", now=self.clock.now(), message=message
                )

    def delete_hyper_parameter_tuning_job(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("DeleteHyperParameterTuningJob", params)
        name = request["HyperParameterTuningJobName"]
        if self.tuning_store.delete_tuning_job(name) is None:
            raise ResourceNotFound(f"Amazon SageMaker can't find a tuning job named {name}.")
        return {}


def raise_in_use(name: str) -> None:
    raise ResourceInUse(
        f"A hyperparameter tuning job with the name, {name}, already exists. Choose a different name."
    )
