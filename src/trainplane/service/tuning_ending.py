"""Why a tuning job stopped launching children: the trainplane extension ``TrainplaneCompletionReason``
of DescribeHyperParameterTuningJob.

SageMaker's response says *that* a tuning job Completed, and TuningJobCompletionDetails only carries the
two criteria's figures, so a job ended by its runtime limit or by trainplane's dollar budget looked the
same as one that ran all its jobs. The reason the tuner stored is turned into a code and a sentence here.
Clients that parse responses by SageMaker's shapes (botocore) drop the member; the CLI and the Python
API show it.
"""

from __future__ import annotations

from typing import Any

from trainplane.service.tuning_definitions import BUDGET_REASON
from trainplane.store.tuning_repository import TuningJob


def completion_reason(job: TuningJob) -> dict[str, str] | None:
    """``{"Code", "Message"}`` once the tuning job has stopped launching children, else ``None``."""
    config = job.request["HyperParameterTuningJobConfig"]
    code = job.completion.get("reason")
    if code is None:
        if job.status == "Completed":
            code = "MaxNumberOfTrainingJobs"
        elif job.status in ("Stopping", "Stopped"):
            code = "StopHyperParameterTuningJob"
        else:
            return None
    if code == BUDGET_REASON:
        return {"Code": code, "Message": _budget_message(bool(job.completion.get("budget_stopped")))}
    return {"Code": code, "Message": _message(code, config)}


def _budget_message(stopped: bool) -> str:
    if stopped:
        return (
            "The dollar budget set by the trainplane:max-cost-usd tag is spent: the training jobs still "
            "running were stopped (what they cost until they stopped is spent past it), and no more were "
            "launched."
        )
    return (
        "The dollar budget set by the trainplane:max-cost-usd tag has no room for another training job at "
        "its expected cost (the dearest finished job's, or before any finished, its instances' price for "
        "MaxRuntimeInSeconds), so no more were launched."
    )


def _message(code: str, config: dict[str, Any]) -> str:
    criteria = config.get("TuningJobCompletionCriteria") or {}
    limits = config["ResourceLimits"]
    if code == "TargetObjectiveMetricValue":
        return f"A training job reached TargetObjectiveMetricValue ({criteria.get(code)})."
    if code == "BestObjectiveNotImproving":
        count = (criteria.get(code) or {}).get("MaxNumberOfTrainingJobsNotImproving")
        return f"The best objective did not improve over {count} training jobs (BestObjectiveNotImproving)."
    if code == "ConvergenceDetected":
        return "The objective converged (ConvergenceDetected); no more training jobs were launched."
    if code == "MaxRuntimeInSeconds":
        return (
            f"The tuning job reached ResourceLimits.MaxRuntimeInSeconds ({limits.get(code)} s); its running "
            "training jobs were stopped."
        )
    if code == "StrategyExhausted":
        return "The strategy had no configuration left to try."
    if code == "ChildrenFailed":
        return "Training jobs kept failing before any reported the objective metric."
    if code == "MaxNumberOfTrainingJobs":
        count = limits.get("MaxNumberOfTrainingJobs")
        return (
            f"All {count} training jobs ran (MaxNumberOfTrainingJobs)." if count else "Every combination ran."
        )
    if code == "StopHyperParameterTuningJob":
        return "The tuning job was stopped (StopHyperParameterTuningJob)."
    return code
