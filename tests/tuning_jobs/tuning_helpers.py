"""Tuning requests for tests: script-mode children that print a per-epoch loss computed from x."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs_helpers import ROLE, SKLEARN_IMAGE, source_dir

# loss(epoch) = (x - 0.3)^2 + 1 / epoch: every child improves with epochs; x near 0.3 is best.
QUADRATIC = """
    import json, os, time
    hps = json.loads(os.environ["SM_HPS"])
    x = float(hps.get("x", 0.5))
    epochs = int(hps.get("epochs", 3))
    delay = float(hps.get("delay", 0))
    for epoch in range(1, epochs + 1):
        print(f"epoch={epoch} loss={(x - 0.3) ** 2 + 1 / epoch:.6f}", flush=True)
        time.sleep(delay)
"""
METRICS = [{"Name": "loss", "Regex": r"loss=([-+0-9.eE]+)"}]


def definition(tmp_path: Path, code: str = QUADRATIC, static: dict[str, str] | None = None) -> dict[str, Any]:
    uri = source_dir(tmp_path / "code", code)
    return {
        "StaticHyperParameters": {
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"{uri}"',
            **(static or {}),
        },
        "AlgorithmSpecification": {
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": METRICS,
        },
        "RoleArn": ROLE,
        "OutputDataConfig": {"S3OutputPath": f"file://{tmp_path}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def tuning_request(
    name: str,
    tmp_path: Path,
    *,
    strategy: str = "Random",
    max_jobs: int | None = 4,
    parallel: int = 2,
    objective: str = "Minimize",
    ranges: dict[str, Any] | None = None,
    static: dict[str, str] | None = None,
    code: str = QUADRATIC,
    **config: Any,
) -> dict[str, Any]:
    limits: dict[str, Any] = {"MaxParallelTrainingJobs": parallel}
    if max_jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = max_jobs
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {"Type": objective, "MetricName": "loss"},
            "ResourceLimits": limits,
            "ParameterRanges": ranges
            if ranges is not None
            else {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]},
            **config,
        },
        "TrainingJobDefinition": definition(tmp_path, code, static),
    }
