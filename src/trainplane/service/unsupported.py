"""What SageMaker accepts but trainplane cannot run, refused at CreateTrainingJob (and when a tuning
job is created) instead of failing each job at run time: channels trainplane cannot stage, distribution
launchers it does not have, and images it cannot run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainplane.errors import ValidationError
from trainplane.runtime.program import unrunnable_reason

# Hyperparameters the SageMaker SDK sets for distributions that need a launcher or a cluster
# description (mpirun, parameter servers, smdistributed, TensorFlow's TF_CONFIG) trainplane does not
# have; torch_distributed / pytorchddp run as one process per host with the torch.distributed variables.
_LAUNCHERS = {
    "sagemaker_mpi_enabled": "MPI (distribution 'mpi')",
    "sagemaker_parameter_server_enabled": "parameter servers (distribution 'parameter_server')",
    "sagemaker_distributed_dataparallel_enabled": "smdistributed (distribution 'smdistributed')",
    "sagemaker_multi_worker_mirrored_strategy_enabled": (
        "TensorFlow's MultiWorkerMirroredStrategy (distribution 'multi_worker_mirrored_strategy'; "
        "no TF_CONFIG is set)"
    ),
}
_STAGED_TYPES = ("S3Prefix", "ManifestFile")


def check_runnable(request: Mapping[str, Any]) -> None:
    """Raise :class:`ValidationError` naming the first part of ``request`` trainplane cannot run."""
    for channel in request.get("InputDataConfig") or []:
        _check_channel(channel)
    hyperparameters = request.get("HyperParameters") or {}
    for key, what in _LAUNCHERS.items():
        if str(hyperparameters.get(key, "")).strip('"').lower() == "true":
            raise ValidationError(
                f"trainplane does not run {what}: hyperparameter {key} is true. Distributed PyTorch "
                "scripts run one process per host with the torch.distributed variables, which every "
                "multi-host job gets (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK): use distribution "
                "'torch_distributed' on GPU types, or no distribution on CPU types (as the SDK allows)."
            )
    _check_program(request["AlgorithmSpecification"], hyperparameters)


def _check_channel(channel: Mapping[str, Any]) -> None:
    name, source = channel["ChannelName"], channel["DataSource"]
    for kind in ("FileSystemDataSource", "DatasetSource"):
        if source.get(kind) is not None:
            raise ValidationError(f"Channel '{name}': trainplane does not support {kind}; use S3DataSource.")
    data_type = (source.get("S3DataSource") or {}).get("S3DataType", "S3Prefix")
    if data_type not in _STAGED_TYPES:
        raise ValidationError(
            f"Channel '{name}': trainplane does not support S3DataType {data_type}; "
            "use S3Prefix or ManifestFile."
        )


def _check_program(spec: Mapping[str, Any], hyperparameters: Mapping[str, str]) -> None:
    """The image must be one trainplane runs: a built-in, script mode, or a ContainerEntrypoint."""
    reason = unrunnable_reason(spec, hyperparameters)
    if reason is not None:
        raise ValidationError(reason)
