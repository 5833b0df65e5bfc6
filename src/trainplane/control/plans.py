"""Turning a stored job into the launch plan of one attempt (pure: no processes, no store writes)."""

from __future__ import annotations

import socket
from dataclasses import asdict
from pathlib import Path
from typing import Any

from trainplane.catalog import instances
from trainplane.executors.base import HostLaunch
from trainplane.runtime import contract
from trainplane.settings import Settings
from trainplane.store.records import TrainingJob


def host_names(count: int) -> list[str]:
    return [f"algo-{i}" for i in range(1, count + 1)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def attempt_plan(job: TrainingJob, attempt: int, settings: Settings, machine_cpus: int) -> list[HostLaunch]:
    request = job.request
    resource = request["ResourceConfig"]
    instance = instances.lookup(resource["InstanceType"])
    count = int(resource["InstanceCount"])
    hosts = host_names(count)
    cpus = max(1, min(instance.vcpus if instance else 1, machine_cpus))
    attempt_dir = settings.jobs_root / job.name / str(attempt)
    master_port = free_port()
    launches = []
    for rank, host in enumerate(hosts):
        root = attempt_dir / host
        context = contract.HostContext(
            job_name=job.name,
            job_arn=job.arn,
            region=settings.region,
            current_host=host,
            hosts=hosts,
            instance_type=resource["InstanceType"],
            hyperparameters=dict(request.get("HyperParameters", {})),
            channels=list(request.get("InputDataConfig", [])),
            training_input_mode=request["AlgorithmSpecification"]["TrainingInputMode"],
            checkpoint_config=request.get("CheckpointConfig"),
            environment=dict(request.get("Environment", {})),
            num_cpus=cpus,
            num_gpus=instance.gpus if instance else 0,
        )
        spec: dict[str, Any] = {
            "root": str(root),
            "context": asdict(context),
            "algorithm_specification": request["AlgorithmSpecification"],
            "storage": {
                "local_s3_root": str(settings.local_s3_root),
                "s3_endpoint_url": settings.s3_endpoint_url,
            },
            "attempt": attempt,
            "distributed": {
                "master_addr": "127.0.0.1",
                "master_port": master_port,
                "world_size": count,
                "rank": rank,
            },
        }
        launches.append(
            HostLaunch(host=host, root=root, agent_dir=attempt_dir / f"{host}.agent", spec=spec, cpus=cpus)
        )
    return launches


def attempt_dir(settings: Settings, job_name: str, attempt: int) -> Path:
    return settings.jobs_root / job_name / str(attempt)
