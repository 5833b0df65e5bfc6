"""What the job's root tells the algorithm: config files under input/config and a few SM_* variables."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainplane.algorithms.registry import TRAINING_IMAGE_VARIABLE, image_tag
from trainplane.algorithms.xgboost.errors import UserError
from trainplane.runtime.paths import MLPaths


@dataclass(frozen=True)
class JobContract:
    paths: MLPaths
    hyperparameters: dict[str, Any]
    input_data_config: dict[str, dict[str, Any]]
    checkpoint_dir: Path | None
    num_cpus: int
    current_host: str = "algo-1"
    hosts: list[str] = field(default_factory=lambda: ["algo-1"])
    xgboost_1_defaults: bool = True  # the image is a 1.x one (1.7-1...): XGBoost 1.7's defaults apply

    @property
    def is_master(self) -> bool:
        return self.current_host == sorted(self.hosts)[0]


def _read_json(path: Path, default: Any) -> Any:
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"Could not parse {path.name}: {exc}") from exc


def _checkpoint_dir(paths: MLPaths) -> Path | None:
    config = _read_json(paths.checkpointconfig_file, None)
    if config is None:
        return None
    return paths.resolve(str(config.get("LocalPath") or "/opt/ml/checkpoints"))


def load_contract(environ: Mapping[str, str]) -> JobContract:
    """Read the contract once; everything after this is a pure function of it."""
    paths = MLPaths.from_environ(environ)
    hosts = json.loads(environ.get("SM_HOSTS", '["algo-1"]'))
    return JobContract(
        paths=paths,
        hyperparameters=_read_json(paths.hyperparameters_file, {}),
        input_data_config=_read_json(paths.inputdataconfig_file, {}),
        checkpoint_dir=_checkpoint_dir(paths),
        num_cpus=usable_cpus(environ),
        current_host=environ.get("SM_CURRENT_HOST", "algo-1"),
        hosts=list(hosts) or ["algo-1"],
        xgboost_1_defaults=image_major_version(environ.get(TRAINING_IMAGE_VARIABLE, "")) < 2,
    )


def image_major_version(image: str) -> int:
    """``sagemaker-xgboost:3.0-5`` -> 3. An image without a readable version is taken as the 1.7-1 image
    that trainplane documents (SageMaker's ``:1`` and ``0.90-x`` tags are older still)."""
    tag = image_tag(image) or ""
    head = tag.split(".", 1)[0].split("-", 1)[0]
    return int(head) if head.isdigit() else 1


def usable_cpus(environ: Mapping[str, str]) -> int:
    """XGBoost's default nthread: the instance's vCPUs (SM_NUM_CPUS), but no more than the cores this
    host may run on. A host pinned to fewer cores than its type has (``--oversubscription``) would
    otherwise run more threads than cores, and they would take turns on each core at every step."""
    vcpus = int(environ.get("SM_NUM_CPUS") or os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        return max(1, min(vcpus, len(os.sched_getaffinity(0))))
    return max(1, vcpus)
