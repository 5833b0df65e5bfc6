"""Requests for simulated spot jobs (trainplane.executors.simulated): hours of fake time per second."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jobs_helpers import ROLE, SKLEARN_IMAGE


def sim_request(
    name: str,
    home: Path,
    source: Any,
    *,
    work: float = 3600,
    checkpoint_every: float = 600,
    save_on_notice: bool = False,
    max_wait: int = 86400,
    max_runtime: int = 43200,
    environment: dict[str, str] | None = None,
    instance_type: str = "ml.m5.xlarge",
) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": {
            "sim_work_seconds": str(work),
            "sim_checkpoint_seconds": str(checkpoint_every),
            "sim_save_on_notice": "true" if save_on_notice else "false",
        },
        "OutputDataConfig": {"S3OutputPath": f"file://{home}/output"},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime, "MaxWaitTimeInSeconds": max_wait},
        "EnableManagedSpotTraining": True,
        "CheckpointConfig": {"S3Uri": f"s3://checkpoints/{name}"},
        "Environment": {"TRAINPLANE_SPOT_INTERRUPTIONS": json.dumps(source), **(environment or {})},
    }


def statuses(description: dict[str, Any]) -> list[str]:
    return [t["Status"] for t in description["SecondaryStatusTransitions"]]
