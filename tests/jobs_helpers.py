"""Building real training-job requests for tests: script-mode jobs from inline code, built-in jobs."""

from __future__ import annotations

import contextlib
import io
import tarfile
import textwrap
from pathlib import Path
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def source_dir(directory: Path, code: str, name: str = "train.py") -> str:
    """Write ``code`` as the entry point inside sourcedir.tar.gz; return its file:// URI."""
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / "sourcedir.tar.gz"
    data = textwrap.dedent(code).encode()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return f"file://{archive}"


def script_job(
    name: str, tmp_path: Path, code: str, *, hyperparameters: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    """A CreateTrainingJob request in the SageMaker SDK's script-mode form (JSON-encoded hps)."""
    uri = source_dir(tmp_path / f"code-{name}", code)
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": {
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"{uri}"',
            **(hyperparameters or {}),
        },
        "OutputDataConfig": {"S3OutputPath": f"file://{tmp_path}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(overrides)
    return request


def channel(name: str, uri: str, content_type: str | None = "text/csv") -> dict[str, Any]:
    item: dict[str, Any] = {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
    }
    if content_type:
        item["ContentType"] = content_type
    return item


def xgboost_job(
    name: str, output: str, channels: list[dict[str, Any]], hyperparameters: dict[str, str]
) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def kill_processes_mentioning(path: Path) -> list[int]:
    """SIGKILL every process whose command line names ``path``; their PIDs.

    A node removed from a single-machine ``ray.cluster_utils.Cluster`` can leave its agent running (in a
    session of its own, it outlives the raylet that started it; a real node's removal takes its
    processes with it), so tests that remove nodes reap what their home's agents left.
    """
    import psutil

    killed = []
    for process in psutil.process_iter(["cmdline"]):
        if str(path) in " ".join(process.info["cmdline"] or []):
            with contextlib.suppress(psutil.Error):
                process.kill()
                killed.append(process.pid)
    return killed
