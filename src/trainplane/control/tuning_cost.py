"""trainplane extension (off by default): a dollar budget for a tuning job.

Set with the tag ``trainplane:max-cost-usd`` (at CreateHyperParameterTuningJob or by AddTags; tags travel
unchanged through boto3 and the SageMaker SDKs). The rule, as README states it:

* A child costs what ``trainplane jobs cost`` shows for it (``describe.job_cost``: on-demand price x
  BillableTimeInSeconds x InstanceCount, spot attempts at the spot fraction), so far for a running one.
* One more child is *expected* to cost as much as the dearest finished child that cost anything; before
  any did, as much as a child can: the dearest of its instance choices at on-demand price x InstanceCount x
  its MaxRuntimeInSeconds (the dearest such bound over the definitions).
* A running child is counted at the larger of its cost so far and the expected cost.
* A child is launched only while what is spent and counted for running children, plus its expected cost,
  stays within the cap. The first child is always launched: no cost is known before one ends, and the cap
  still stops it.
* Once the spend reaches the cap, running children are stopped, whatever else ended the launching. What
  they cost between the tick that sees it and their stop is spent past the cap.
* When no child runs and one more would not fit, the tuning job completes with ``BUDGET_REASON``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trainplane.service.describe import job_cost
from trainplane.service.tuning_definitions import BUDGET_REASON, BUDGET_TAG, definitions, resource_choices
from trainplane.spot import billing
from trainplane.store.tuning_repository import TuningJob

if TYPE_CHECKING:
    from trainplane.control.tuning_snapshot import ChildState
    from trainplane.service.tuning import TuningService

REASON = BUDGET_REASON
DEFAULT_MAX_RUNTIME = 86400  # a StoppingCondition without MaxRuntimeInSeconds: SageMaker's one day
_SLACK = 1e-9  # floating-point slack when counting how many expected costs fit in what is left


@dataclass(frozen=True)
class Budget:
    """Where a tuning job's spend stands against its cap, in dollars."""

    cap: float
    spent: float  # every child's cost so far
    committed: float  # finished children's costs plus running ones at max(cost so far, expected)
    expected: float  # one more child's expected cost (> 0)
    running: int  # children not ended
    launched: int  # children recorded so far

    @property
    def exhausted(self) -> bool:
        """The spend reached the cap: stop the running children."""
        return self.spent >= self.cap

    def room(self) -> int:
        """How many more children may be launched now."""
        if self.exhausted:
            return 0
        fits = max(0, math.floor((self.cap - self.committed) / self.expected + _SLACK))
        return max(1, fits) if self.launched == 0 else fits

    @property
    def full(self) -> bool:
        """Nothing runs and no further child fits: launching has ended for good."""
        return self.running == 0 and self.room() == 0


def cap(service: TuningService, job: TuningJob) -> float | None:
    for tag in service.store.list_tags(job.arn):
        if tag["Key"] == BUDGET_TAG:
            try:
                return float(tag["Value"])
            except ValueError:  # refused at create and on AddTags; kept for rows stored before that
                return None
    return None


def child_cost(service: TuningService, name: str, now: float) -> float | None:
    """One child's dollars so far, the figure ``trainplane jobs cost`` shows; 0 before it exists."""
    job = service.store.get_training_job(name)
    if job is None:
        return 0.0
    return job_cost(job, service.store, now).cost_usd


def worst_case(request: Mapping[str, Any]) -> float:
    """The most one child can cost: its dearest instance choice for its whole MaxRuntimeInSeconds."""
    costs = [0.0]
    for definition in definitions(request):
        runtime = (definition.doc.get("StoppingCondition") or {}).get(
            "MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME
        )
        for resources in resource_choices(definition.doc):
            price = billing.on_demand_price(resources["InstanceType"]) or 0.0
            costs.append(price * int(resources["InstanceCount"]) * float(runtime) / 3600.0)
    return max(costs)


def budget(
    service: TuningService,
    job: TuningJob,
    states: Sequence[ChildState],
    now: float,
    finished_costs: MutableMapping[str, float],
) -> Budget | None:
    """The tuning job's Budget; None without the tag. ``finished_costs`` caches ended children's costs
    (they never change); unpriced children count 0 (the tag is refused on unpriced types)."""
    limit = cap(service, job)
    if limit is None:
        return None
    finished, running = [], []
    for state in states:
        name = state.child.training_job_name
        if state.terminal and name in finished_costs:
            finished.append(finished_costs[name])
            continue
        cost = 0.0
        if state.job is not None:
            cost = job_cost(state.job, service.store, now).cost_usd or 0.0
        if state.terminal:
            finished_costs[name] = cost
            finished.append(cost)
        else:
            running.append(cost)
    paid = [c for c in finished if c > 0]
    expected = max(paid) if paid else worst_case(job.request)
    if expected <= 0:  # no instance type has a price: a job stored before such caps were refused
        return None
    return Budget(
        cap=limit,
        spent=sum(finished) + sum(running),
        committed=sum(finished) + sum(max(c, expected) for c in running),
        expected=expected,
        running=len(running),
        launched=len(states),
    )
