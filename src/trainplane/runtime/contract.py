"""The training-container contract (§5) as pure functions of one host's context and its root.

:func:`write_config_files` writes the files SageMaker puts under ``/opt/ml/input/config``;
:func:`build_environment` returns the variables the process of that host sees: the platform's own,
the request's ``Environment``, and every ``SM_*`` variable the sagemaker-training toolkit exports,
with the toolkit's encoding (strings verbatim, everything else compact sorted JSON). Nothing here reads
or writes ``os.environ``: the toolkit does, at import, and its tests pay for it in patches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainplane.runtime.paths import OPT_ML, ROOT_ENV, MLPaths
from trainplane.runtime.script_mode import (
    LOG_LEVEL_PARAM,
    RESERVED_HYPERPARAMETERS,
    UserEntry,
    decode_hyperparameters,
    split_hyperparameters,
    to_cmd_args,
)

HOMOGENEOUS_GROUP = "homogeneousCluster"
DEFAULT_CHECKPOINT_PATH = "/opt/ml/checkpoints"
DEFAULT_LOG_LEVEL = 20  # logging.INFO, the toolkit's default
# Framework flags that make the toolkit count the current group as a distribution group.
_DISTRIBUTION_FLAGS = (
    "sagemaker_mpi_enabled",
    "sagemaker_parameter_server_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_pytorch_ddp_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled",
)


@dataclass(frozen=True)
class HostContext:
    """Everything one host of one attempt needs to know about its job, taken from the request."""

    job_name: str
    job_arn: str
    region: str
    current_host: str
    hosts: Sequence[str]
    instance_type: str
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    channels: Sequence[Mapping[str, Any]] = ()
    training_input_mode: str = "File"
    checkpoint_config: Mapping[str, Any] | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    num_cpus: int = 1
    num_gpus: int = 0
    num_neurons: int = 0
    instance_groups: Sequence[Mapping[str, Any]] | None = None
    output_data_s3: str | None = None
    network_interface_name: str = "eth0"


@dataclass(frozen=True)
class DistributedInfo:
    """torch.distributed rendezvous variables for one process (one process per host by default)."""

    master_port: int
    world_size: int
    rank: int
    node_rank: int
    local_rank: int = 0
    master_addr: str = "127.0.0.1"  # algo-1's address; all local hosts share the loopback

    @classmethod
    def for_host(cls, ctx: HostContext, master_port: int, master_addr: str = "127.0.0.1") -> DistributedInfo:
        hosts = sorted(ctx.hosts)
        node_rank = hosts.index(ctx.current_host)
        return cls(master_port, len(hosts), node_rank, node_rank, 0, master_addr)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DistributedInfo:
        """From a JSON-shaped spec; node_rank defaults to rank (one process per host)."""
        rank = int(values["rank"])
        return cls(
            master_port=int(values["master_port"]),
            world_size=int(values["world_size"]),
            rank=rank,
            node_rank=int(values.get("node_rank", rank)),
            local_rank=int(values.get("local_rank", 0)),
            master_addr=str(values.get("master_addr", "127.0.0.1")),
        )


def host_addresses(
    hosts: Sequence[str], distributed: DistributedInfo | Mapping[str, Any] | None
) -> dict[str, str]:
    """Where each host name (``algo-1`` ...) resolves inside the job's sandbox (§5.1: the hosts are
    algo-1..N on the job's network). Local hosts all share the loopback; on a cluster only algo-1's
    address (MASTER_ADDR) is known to every host, which is the one rendezvous scripts connect to."""
    if isinstance(distributed, Mapping):
        distributed = DistributedInfo.from_mapping(distributed)
    master = distributed.master_addr if distributed is not None else "127.0.0.1"
    ordered = sorted(hosts)
    if master.startswith("127."):
        return {host: master for host in ordered}
    return {ordered[0]: master}


def _encode(value: Any) -> str:
    """The toolkit's ``mapping.to_env_vars`` value rule."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _groups(ctx: HostContext) -> list[dict[str, Any]]:
    if ctx.instance_groups:
        return [
            {"instance_group_name": g["instance_group_name"], "instance_type": g["instance_type"],
             "hosts": list(g["hosts"])}
            for g in ctx.instance_groups
        ]  # fmt: skip
    return [
        {
            "instance_group_name": HOMOGENEOUS_GROUP,
            "instance_type": ctx.instance_type,
            "hosts": list(ctx.hosts),
        }
    ]


def _current_group(ctx: HostContext) -> dict[str, Any]:
    groups = _groups(ctx)
    return next((g for g in groups if ctx.current_host in g["hosts"]), groups[0])


def resource_config(ctx: HostContext) -> dict[str, Any]:
    group = _current_group(ctx)
    return {
        "current_host": ctx.current_host,
        "current_instance_type": group["instance_type"],
        "current_group_name": group["instance_group_name"],
        "hosts": sorted(ctx.hosts),
        "instance_groups": _groups(ctx),
        "network_interface_name": ctx.network_interface_name,
    }


def input_data_config(ctx: HostContext) -> dict[str, dict[str, str]]:
    config: dict[str, dict[str, str]] = {}
    for channel in ctx.channels:
        entry: dict[str, str] = {}
        if channel.get("ContentType"):
            entry["ContentType"] = channel["ContentType"]
        entry["TrainingInputMode"] = channel.get("InputMode") or ctx.training_input_mode
        s3 = channel.get("DataSource", {}).get("S3DataSource") or {}
        entry["S3DistributionType"] = s3.get("S3DataDistributionType") or "FullyReplicated"
        entry["RecordWrapperType"] = channel.get("RecordWrapperType") or "None"
        config[channel["ChannelName"]] = entry
    return config


def checkpoint_config(ctx: HostContext) -> dict[str, str] | None:
    if not ctx.checkpoint_config:
        return None
    local = ctx.checkpoint_config.get("LocalPath") or DEFAULT_CHECKPOINT_PATH
    return {"LocalPath": local, "S3Uri": ctx.checkpoint_config["S3Uri"]}


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")


def write_config_files(ctx: HostContext, paths: MLPaths) -> None:
    """hyperparameters.json (verbatim strings), inputdataconfig.json, resourceconfig.json and,
    only with a CheckpointConfig, checkpointconfig.json (LocalPath as the job sees it)."""
    _write_json(paths.hyperparameters_file, dict(ctx.hyperparameters))
    _write_json(paths.inputdataconfig_file, input_data_config(ctx))
    _write_json(paths.resourceconfig_file, resource_config(ctx))
    checkpoint = checkpoint_config(ctx)
    if checkpoint is not None:
        _write_json(paths.checkpointconfig_file, checkpoint)
    else:
        paths.checkpointconfig_file.unlink(missing_ok=True)


def _distribution_groups(ctx: HostContext, framework_params: Mapping[str, Any]) -> list[str]:
    explicit = framework_params.get("sagemaker_distribution_instance_groups")
    if explicit is not None:
        return list(explicit)
    enabled = any(framework_params.get(flag, False) for flag in _DISTRIBUTION_FLAGS)
    return [_current_group(ctx)["instance_group_name"]] if enabled else []


def training_env(ctx: HostContext, base: str, user_entry: UserEntry | None) -> dict[str, Any]:
    """The toolkit's ``Environment`` as a dict (``SM_TRAINING_ENV``); directories under ``base``."""
    user_hps, sagemaker_hps = split_hyperparameters(decode_hyperparameters(ctx.hyperparameters))
    framework_params = {k: v for k, v in sagemaker_hps.items() if k not in RESERVED_HYPERPARAMETERS}
    groups = _groups(ctx)
    current = _current_group(ctx)
    distribution_groups = _distribution_groups(ctx, framework_params)
    distribution_hosts = [
        h for g in groups if g["instance_group_name"] in distribution_groups for h in g["hosts"]
    ]
    master = distribution_hosts[0] if distribution_hosts else sorted(ctx.hosts)[0]
    rconfig = resource_config(ctx)
    return {
        "additional_framework_parameters": framework_params,
        "channel_input_dirs": {
            c["ChannelName"]: f"{base}/input/data/{c['ChannelName']}" for c in ctx.channels
        },
        "current_host": ctx.current_host,
        "current_instance_group": current["instance_group_name"],
        "current_instance_group_hosts": current["hosts"],
        "current_instance_type": current["instance_type"],
        "distribution_hosts": distribution_hosts,
        "distribution_instance_groups": distribution_groups,
        "framework_module": ctx.environment.get("SAGEMAKER_TRAINING_MODULE"),
        "hosts": rconfig["hosts"],
        "hyperparameters": user_hps,
        "input_config_dir": f"{base}/input/config",
        "input_data_config": input_data_config(ctx),
        "input_dir": f"{base}/input",
        "instance_groups": [g["instance_group_name"] for g in groups],
        "instance_groups_dict": {g["instance_group_name"]: g for g in groups},
        "is_hetero": len(groups) > 1,
        "is_master": ctx.current_host == master,
        "is_modelparallel_enabled": None,
        "job_name": ctx.job_name,
        "log_level": sagemaker_hps.get(LOG_LEVEL_PARAM, DEFAULT_LOG_LEVEL),
        "master_hostname": master,
        "model_dir": f"{base}/model",
        # The toolkit reports the submit directory itself (an s3:// URI) as module_dir, and str(None)
        # as module_name when there is no program: copied, since scripts may print or parse them.
        "module_dir": (user_entry.submit_directory if user_entry else None) or f"{base}/code",
        "module_name": user_entry.module_name if user_entry else "None",
        "network_interface_name": ctx.network_interface_name,
        "num_cpus": ctx.num_cpus,
        "num_gpus": ctx.num_gpus,
        "num_neurons": ctx.num_neurons,
        "output_data_dir": f"{base}/output/data",
        "output_dir": f"{base}/output",
        "output_intermediate_dir": f"{base}/output/intermediate",
        "resource_config": rconfig,
        "user_entry_point": user_entry.program if user_entry else None,
    }


def _sm_variables(env: Mapping[str, Any], user_args: list[str]) -> dict[str, str]:
    """``Environment.to_env_vars``: selected keys plus channel_* and hp_*, each as SM_<KEY.upper()>."""
    keys = (
        "hosts",
        "network_interface_name",
        "user_entry_point",
        "output_data_dir",
        "current_host",
        "current_instance_type",
        "current_instance_group",
        "current_instance_group_hosts",
        "instance_groups",
        "instance_groups_dict",
        "distribution_instance_groups",
        "is_hetero",
        "module_name",
        "log_level",
        "framework_module",
        "input_dir",
        "input_config_dir",
        "output_dir",
        "num_cpus",
        "num_gpus",
        "num_neurons",
        "model_dir",
        "module_dir",
        "output_intermediate_dir",
        "resource_config",
        "input_data_config",
    )
    variables: dict[str, Any] = {key: env[key] for key in keys}
    variables |= {
        "hps": env["hyperparameters"],
        "framework_params": env["additional_framework_parameters"],
        "channels": sorted(env["channel_input_dirs"]),
        "training_env": env,
        "user_args": user_args,
    }
    variables |= {f"channel_{name}": path for name, path in env["channel_input_dirs"].items()}
    variables |= {f"hp_{name}": value for name, value in env["hyperparameters"].items()}
    return {f"SM_{key.upper()}": _encode(value) for key, value in variables.items()}


def build_environment(
    ctx: HostContext,
    paths: MLPaths,
    *,
    user_entry: UserEntry | None = None,
    opt_ml_view: bool = False,
    distributed: DistributedInfo | Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The variables the process of ``ctx.current_host`` sees, to overlay on the runner's base env.

    Paths point into ``paths.root``, or at ``/opt/ml/...`` when the process runs inside the /opt/ml
    sandbox (``opt_ml_view``). ``user_entry`` defaults to the one named by the hyperparameters.
    ``distributed`` (a DistributedInfo or its JSON-shaped mapping) adds the torch.distributed variables.
    The request's Environment comes first so the platform's and the toolkit's variables win, as the
    toolkit's own ``os.environ`` writes do in a container.
    """
    base = OPT_ML if opt_ml_view else str(paths.root)
    entry = user_entry or UserEntry.from_hyperparameters(ctx.hyperparameters)
    env = training_env(ctx, base, entry)
    result = dict(ctx.environment)
    result |= _sm_variables(env, to_cmd_args(ctx.hyperparameters))
    python_path = [f"{base}/code", *filter(None, [ctx.environment.get("PYTHONPATH")])]
    result |= {
        "TRAINING_JOB_NAME": ctx.job_name,
        "TRAINING_JOB_ARN": ctx.job_arn,
        "AWS_REGION": ctx.region,
        "AWS_DEFAULT_REGION": ctx.region,
        "CURRENT_HOST": ctx.current_host,
        "PYTHONPATH": ":".join(python_path),
        ROOT_ENV: str(paths.root),
    }
    if isinstance(distributed, Mapping):
        distributed = DistributedInfo.from_mapping(distributed)
    if distributed is not None:
        result |= {
            "MASTER_ADDR": distributed.master_addr,
            "MASTER_PORT": str(distributed.master_port),
            "WORLD_SIZE": str(distributed.world_size),
            "RANK": str(distributed.rank),
            "LOCAL_RANK": str(distributed.local_rank),
            "NODE_RANK": str(distributed.node_rank),
        }
    return result
