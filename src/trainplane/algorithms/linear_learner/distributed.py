"""Distributed Linear Learner (InstanceCount > 1): synchronous data parallelism over torch.distributed.

Each host trains on its own share of the train channel (ShardedByS3Key gives each about 1/N of the
objects). The hosts meet twice, as SageMaker's container does:

1. A group of *all* hosts (gloo, rendezvous at MASTER_ADDR:MASTER_PORT, i.e. on algo-1) only agrees on
   which hosts have data. A host without train data (or without validation data when that channel
   exists; files, or in Pipe mode bytes in the FIFO) is excluded: it logs why and exits successfully.
   When no host has data, every host fails with a ClientError, as one host without data does.
2. When some host is excluded, the first host with data opens a fresh store on a free port, announces it
   over the first group, and the hosts with data form a second group there (the first one is
   destroyed). Otherwise the first group is kept.

In the training group (rank 0 = the first host with data = the *leader*): normalisation statistics are
sums over every host's sample, all-reduced; the hosts take local steps and average their models, with a
correction for shards that differ, every ~256k rows (``averaging``), or with ``_kvstore=dist_sync``
all-reduce the gradient sums at every step; every epoch has the same number of steps on every host (the
most any host has: a host out of batches skips its turn) and ends with identical models; the validation
loss is computed on 1/N of the (replicated) validation rows per host and all-reduced. Only the leader
prints metric lines, writes checkpoints, selects and calibrates the final model on the whole validation
channel and saves it.

Backend: "nccl" when the host was given GPUs (SM_NUM_GPUS > 0) and torch sees CUDA, else "gloo"; the
training itself stays on the CPU, so with nccl each collective round-trips through the GPU. Every
collective has a timeout (``TRAINPLANE_COLLECTIVE_TIMEOUT_SECONDS``, default 600 s): a host that dies
closes its connections and its peers fail at once; a host that hangs makes them fail after the timeout.
"""

from __future__ import annotations

import datetime
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from trainplane.algorithms.formats import row_share
from trainplane.algorithms.linear_learner.errors import ClientError
from trainplane.algorithms.network import route_address

DEFAULT_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class Cluster:
    """This host's place in the job, from the container contract's variables."""

    rank: int = 0
    world_size: int = 1
    master_addr: str = "127.0.0.1"
    master_port: int = 29500
    gpus: int = 0
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Cluster:
        def number(name: str, default: float) -> float:
            value = environ.get(name, "")
            try:
                return float(value) if value else default
            except ValueError:
                return default

        return cls(
            rank=int(number("RANK", 0)),
            world_size=max(1, int(number("WORLD_SIZE", 1))),
            master_addr=environ.get("MASTER_ADDR") or "127.0.0.1",
            master_port=int(number("MASTER_PORT", 29500)),
            gpus=int(number("SM_NUM_GPUS", 0)),
            timeout_seconds=number("TRAINPLANE_COLLECTIVE_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS),
        )

    @property
    def timeout(self) -> datetime.timedelta:
        return datetime.timedelta(seconds=self.timeout_seconds)


def backend(cluster: Cluster, cuda_available: bool | None = None) -> str:
    """ "nccl" on a host with GPUs that torch can use, else "gloo"."""
    if cuda_available is None:
        cuda_available = torch.cuda.is_available()
    return "nccl" if cluster.gpus > 0 and cuda_available else "gloo"


class Collective:
    """The training group's operations; one host alone (``Collective()``) makes them all no-ops."""

    def __init__(self, rank: int = 0, world_size: int = 1, device: str = "cpu") -> None:
        self.rank, self.world_size, self.device = rank, world_size, torch.device(device)

    @property
    def is_leader(self) -> bool:
        return self.rank == 0

    def shard(self, rows: int) -> tuple[int, int]:
        """This host's contiguous share ``[lo, hi)`` of ``rows`` replicated rows."""
        return row_share(rows, self.rank, self.world_size)

    def all_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over the hosts, in place (CPU tensors)."""
        if self.world_size > 1:
            if self.device.type == "cpu":
                dist.all_reduce(tensor)
            else:
                moved = tensor.to(self.device)
                dist.all_reduce(moved)
                tensor.copy_(moved)
        return tensor

    def all_max(self, value: int) -> int:
        if self.world_size == 1:
            return value
        found = torch.tensor([value], dtype=torch.int64, device=self.device)
        dist.all_reduce(found, op=dist.ReduceOp.MAX)
        return int(found.item())

    def broadcast(self, value: Any) -> Any:
        """The leader's ``value`` on every host (a picklable object)."""
        if self.world_size == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0, device=self.device if self.device.type != "cpu" else None)
        return box[0]

    def close(self) -> None:
        if self.world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()


def join(cluster: Cluster, with_data: bool) -> Collective | None:
    """Meet the other hosts; the training group, or None when this host is excluded (no data).
    ClientError when no host has data."""
    if cluster.rank != 0:
        wait_for_listener(cluster.master_addr, cluster.master_port, cluster.timeout_seconds)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://{cluster.master_addr}:{cluster.master_port}",
        rank=cluster.rank,
        world_size=cluster.world_size,
        timeout=cluster.timeout,
    )
    flags = torch.zeros(cluster.world_size)
    flags[cluster.rank] = 1.0 if with_data else 0.0
    dist.all_reduce(flags)
    included = [rank for rank in range(cluster.world_size) if flags[rank] > 0]
    name = backend(cluster)
    if len(included) == cluster.world_size and name == "gloo":
        return Collective(cluster.rank, cluster.world_size)
    leader, store = (included or [0])[0], None
    address: list[Any] = [None]
    if cluster.rank == leader and len(included) > 1:
        host = route_address(cluster.master_addr)
        # Not waiting for the workers here: they learn the port from the broadcast below, which this
        # host only reaches once the store exists (init_process_group waits for them instead).
        store = dist.TCPStore(
            host, 0, len(included), is_master=True, timeout=cluster.timeout, wait_for_workers=False
        )
        address = [(host, store.port)]
    dist.broadcast_object_list(address, src=leader)
    dist.destroy_process_group()
    if not included:
        raise ClientError(
            f"None of the {cluster.world_size} hosts has data to train on (train data, and validation "
            "data when that channel exists)."
        )
    if not with_data:
        return None
    if len(included) == 1:
        return Collective()
    rank = included.index(cluster.rank)
    if store is None:
        host, port = address[0]
        store = dist.TCPStore(host, port, len(included), is_master=False, timeout=cluster.timeout)
    dist.init_process_group(name, store=store, rank=rank, world_size=len(included), timeout=cluster.timeout)
    return Collective(rank, len(included), "cuda" if name == "nccl" else "cpu")


def wait_for_listener(host: str, port: int, timeout: float, poll: float = 0.01) -> None:
    """Return once ``host:port`` accepts a TCP connection (or after ``timeout``: the rendezvous then
    reports the failure). torch's store client, when it finds nobody listening, backs off for about
    half a second; the hosts start together, so without this wait the master's store is often a few
    milliseconds late and every other host loses that half second. The store ignores such a probe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=max(poll, 0.1)):
                return
        except OSError:
            time.sleep(poll)
