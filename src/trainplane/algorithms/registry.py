"""Which training images trainplane runs itself, and how.

SageMaker's built-in algorithm images are recognised by repository name, whatever the registry and tag:
``<registry>/sagemaker-xgboost:1.7-1`` runs ``python -m trainplane.algorithms.xgboost``. Such jobs get the
algorithm's MetricDefinitions filled in by the service, as SageMaker does.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

MAX_METRIC_DEFINITIONS = 40


@dataclass(frozen=True)
class BuiltinAlgorithm:
    name: str
    module: str  # run as ``python -m <module>``
    supports_pipe: bool
    checkpoints: bool
    # Imported ahead of a job by a spare agent's pre-loaded interpreter (``runtime.preload``): what
    # costs this algorithm's start-up most. Empty: it starts as a fresh ``python -m``.
    preload: tuple[str, ...] = ()

    def metric_definitions(self, hyperparameters: dict[str, str] | None = None) -> list[dict[str, str]]:
        """The MetricDefinitions SageMaker fills in for this algorithm's jobs.

        Linear Learner's list depends on the predictor type (all three together exceed the 40-definition
        limit), so it is narrowed by the job's ``predictor_type`` hyperparameter when known.
        """
        package = importlib.import_module(self.module)
        if self.name == "linear-learner":
            predictor_type = (hyperparameters or {}).get("predictor_type")
            try:
                definitions: list[dict[str, str]] = package.metric_definitions(predictor_type)
            except (KeyError, ValueError):  # an invalid predictor_type fails the job later, with a reason
                definitions = package.metric_definitions()[:MAX_METRIC_DEFINITIONS]
        else:
            definitions = package.metric_definitions()
        return definitions

    def hyperparameter_problem(self, hyperparameters: dict[str, str]) -> str | None:
        """Why this algorithm would refuse ``hyperparameters`` (its ClientError's text), or None.

        The algorithm's own validation, run without starting a job; its module imports no ML library.
        """
        module = importlib.import_module(f"{self.module}.hyperparameters")
        found: str | None = module.problem(hyperparameters)
        return found


XGBOOST = BuiltinAlgorithm(
    "xgboost",
    "trainplane.algorithms.xgboost",
    supports_pipe=True,
    checkpoints=True,
    # Imports of 0.21-0.23 s on one core of the Intel VM (xgboost without scikit-learn, its tracker, the
    # readers' pyarrow; `benchmarks/scaling.py --timeline`): start-up that every host of a job pays,
    # however many hosts.
    preload=(
        "trainplane.algorithms.xgboost.library",  # first: it imports xgboost without scikit-learn
        "trainplane.algorithms.xgboost.train",
        "trainplane.algorithms.xgboost.distributed",
        "trainplane.algorithms.formats.parquet",
        "trainplane.algorithms.formats.csv",
        "trainplane.algorithms.formats.libsvm",
        "trainplane.algorithms.formats.recordio_protobuf",
    ),
)
LINEAR_LEARNER = BuiltinAlgorithm(
    "linear-learner",
    "trainplane.algorithms.linear_learner",
    supports_pipe=True,
    checkpoints=True,
    # torch is 0.8 s of a 1.3 s start-up on one core, the readers' pyarrow 0.15 s (benchmarks/RESULTS.md,
    # scaling).
    preload=(
        "torch",
        "torch.distributed",
        "trainplane.algorithms.linear_learner.fit",
        "trainplane.algorithms.linear_learner.distributed",
        "trainplane.algorithms.formats.parquet",
        "trainplane.algorithms.formats.csv",
        "trainplane.algorithms.formats.recordio_protobuf",
    ),
)

TRAINING_IMAGE_VARIABLE = "TRAINPLANE_TRAINING_IMAGE"  # a built-in's process learns its image (and tag) here

_BY_REPOSITORY = {"sagemaker-xgboost": XGBOOST, "xgboost": XGBOOST, "linear-learner": LINEAR_LEARNER}


def image_repository(image: str) -> str:
    """``683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1`` -> ``sagemaker-xgboost``."""
    without_digest = image.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def builtin_for_image(image: str | None) -> BuiltinAlgorithm | None:
    if not image:
        return None
    return _BY_REPOSITORY.get(image_repository(image))


def image_tag(image: str) -> str | None:
    """``.../sagemaker-xgboost:1.7-1`` -> ``1.7-1``; None without a tag (or with only a digest)."""
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None
