"""Distributed Linear Learner's sums over real gloo process groups: the same bits on every host, and a
peer that dies fails the sum instead of hanging it."""

from __future__ import annotations

import multiprocessing as mp
import time
from multiprocessing.queues import Queue
from typing import Any

import numpy as np
import pytest

from trainplane.control.plans import free_port


def _contribution(rank: int) -> list[np.ndarray]:
    rng = np.random.default_rng(rank)
    return [
        rng.normal(size=2_200),  # float64, as the averaging buffer
        rng.normal(size=(17, 32)).astype(np.float32),  # float32, as the gradients
    ]


def _join(rank: int, world: int, port: int, timeout_seconds: float) -> Any:
    """This process as host ``rank`` of a gloo group on loopback; its ``Collective``."""
    import datetime

    import torch.distributed as dist

    from trainplane.algorithms.linear_learner.distributed import Collective

    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=timeout_seconds),
    )
    return Collective(rank, world)


def _sum_on_host(rank: int, world: int, port: int, out: Queue) -> None:
    import torch

    group = _join(rank, world, port, timeout_seconds=30)
    results = [group.all_sum(torch.from_numpy(np.array(a))).numpy().copy() for a in _contribution(rank)]
    out.put((rank, results))
    group.close()


def _sums(world: int) -> dict[int, list[np.ndarray]]:
    ctx = mp.get_context("spawn")
    out: Queue = ctx.Queue()
    port = free_port()
    hosts = [ctx.Process(target=_sum_on_host, args=(rank, world, port, out)) for rank in range(world)]
    for host in hosts:
        host.start()
    found = dict(out.get(timeout=120) for _ in hosts)
    for host in hosts:
        host.join(timeout=60)
        assert host.exitcode == 0
    return found


@pytest.mark.slow
@pytest.mark.parametrize("world", [2, 3])
def test_every_host_gets_the_same_bits_of_the_sum(world: int) -> None:
    found = _sums(world)
    expected = [sum(parts) for parts in zip(*(_contribution(r) for r in range(world)), strict=True)]
    for index, total in enumerate(expected):
        leader = found[0][index]
        assert leader.dtype == total.dtype
        np.testing.assert_allclose(leader, total, rtol=1e-5, atol=1e-6)
        for rank in range(1, world):
            assert found[rank][index].tobytes() == leader.tobytes()  # identical models everywhere
    if world == 2:  # one addition per value, and a + b == b + a: exactly the sum on both hosts
        assert all(np.array_equal(found[0][i], expected[i]) for i in range(len(expected)))


def _sum_then_vanish(rank: int, port: int, out: Queue) -> None:
    import os

    import torch

    group = _join(rank, 2, port, timeout_seconds=60)
    group.all_sum(torch.ones(4))
    if rank == 1:
        os._exit(3)  # dies between two rounds, as a killed host does
    started = time.monotonic()
    try:
        group.all_sum(torch.ones(4))
        out.put(("no error", time.monotonic() - started))
    except RuntimeError as exc:
        out.put((str(exc), time.monotonic() - started))


@pytest.mark.slow
def test_a_sum_with_a_peer_that_died_fails_at_once() -> None:
    ctx = mp.get_context("spawn")
    out: Queue = ctx.Queue()
    port = free_port()
    hosts = [ctx.Process(target=_sum_then_vanish, args=(rank, port, out)) for rank in range(2)]
    for host in hosts:
        host.start()
    message, seconds = out.get(timeout=120)
    for host in hosts:
        host.join(timeout=60)
    assert message != "no error"
    assert seconds < 30  # well under the group's 60 s timeout: the closed connection ends the wait
