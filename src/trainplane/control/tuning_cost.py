"""trainplane extension (off by default): a dollar budget for a tuning job.

Set with the tag ``trainplane:max-cost-usd`` on CreateHyperParameterTuningJob (tags travel unchanged
through boto3 and the SageMaker SDKs). Children are priced from the instance catalog with
``spot.billing`` (spot attempts at the spot fraction). The budget is spent when the children's cost so
far reaches it, or when one more child at the average cost of the finished ones would exceed it; then
no more children are launched and running ones are stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from trainplane.service.tuning_definitions import BUDGET_REASON, BUDGET_TAG
from trainplane.spot import billing
from trainplane.store.tuning_repository import TuningJob

if TYPE_CHECKING:
    from trainplane.control.tuning_snapshot import ChildState
    from trainplane.service.tuning import TuningService

REASON = BUDGET_REASON


def budget(service: TuningService, job: TuningJob) -> float | None:
    for tag in service.store.list_tags(job.arn):
        if tag["Key"] == BUDGET_TAG:
            try:
                return float(tag["Value"])
            except ValueError:
                return None
    return None


def child_cost(service: TuningService, name: str, now: float) -> float | None:
    job = service.store.get_training_job(name)
    if job is None:
        return 0.0
    resources = job.request["ResourceConfig"]
    usages = [
        billing.AttemptUsage(
            a.start_time,
            max(a.start_time, a.end_time if a.end_time is not None else now),
            resources["InstanceType"],
            int(resources["InstanceCount"]),
            spot=a.spot,
        )
        for a in service.store.attempts(name)
        if a.start_time is not None
    ]
    return billing.cost_report(usages).cost_usd


def spent(service: TuningService, states: Sequence[ChildState], now: float) -> tuple[float, list[float]]:
    """(total cost so far, costs of the finished children); unpriced children count as 0."""
    total, finished = 0.0, []
    for state in states:
        cost = child_cost(service, state.child.training_job_name, now) or 0.0
        total += cost
        if state.terminal:
            finished.append(cost)
    return total, finished


def verdict(service: TuningService, job: TuningJob, states: Sequence[ChildState], now: float) -> str | None:
    """None within budget; "soft" when one more child would exceed it (launch no more); "hard" when it
    is spent (also stop the running children)."""
    limit = budget(service, job)
    if limit is None:
        return None
    total, finished = spent(service, states, now)
    if total >= limit:
        return "hard"
    expected = sum(finished) / len(finished) if finished else 0.0
    return "soft" if total + expected > limit else None
