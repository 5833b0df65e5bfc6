"""Helpers shared by the training-job benchmarks: requests, percentiles, tables, machine description."""

from __future__ import annotations

import datetime
import io
import os
import platform
import statistics
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
WORK = Path(__file__).resolve().parent / ".work"  # git-ignored scratch space


def source_archive(directory: Path, code: str, name: str = "train.py") -> str:
    """Write ``code`` as ``name`` inside ``directory/sourcedir.tar.gz``; return its file:// URI."""
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / "sourcedir.tar.gz"
    data = code.encode()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return f"file://{archive}"


def _base_request(name: str, image: str, output: str) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def script_request(name: str, code_uri: str, output: str) -> dict[str, Any]:
    """A script-mode request as the SageMaker SDK sends it (JSON-encoded hyperparameter values)."""
    request = _base_request(name, SKLEARN_IMAGE, output)
    request["HyperParameters"] = {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": f'"{code_uri}"',
    }
    return request


def xgboost_request(
    name: str, train_uri: str, output: str, hyperparameters: dict[str, str]
) -> dict[str, Any]:
    """A built-in XGBoost request with one CSV ``train`` channel."""
    request = _base_request(name, XGBOOST_IMAGE, output)
    request["HyperParameters"] = hyperparameters
    request["InputDataConfig"] = [
        {
            "ChannelName": "train",
            "ContentType": "text/csv",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": train_uri,
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
    ]
    return request


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (also readable as plain text)."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line() -> str:
    """Date, CPU count and model, Python: the header every results section starts with."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{now}; {os.cpu_count()} CPUs ({cpu_model()}); Python {platform.python_version()}"
