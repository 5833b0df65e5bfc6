"""Distributed Linear Learner on shards that differ: 2 hosts vs 1 host, plain vs drift-corrected averages.

    .venv/bin/python benchmarks/linear_learner_shards.py [--rows 1000000] [--epochs 15] [--batch 1000]

The trainer of the built-in, in-process over torch.distributed (gloo on loopback, one core per rank),
without the job machinery: one process on all rows, then two ranks on half the rows each, the way
ShardedByS3Key splits objects. "shuffled" shards are alike; "label-sorted" shards are what objects
partitioned by a label (or a date the label drifts with) give: one host holds the lower half of the
labels, the other the upper half (features shifted too). Each configuration runs with the hosts'
averages plain (``averaging.DRIFT_CORRECTION = False``) and drift-corrected (the default), beside one
host on the same rows in the same order (which, on sorted rows, also trains on batches of like labels).
The number is the best of the 32 models' validation loss on all rows after the last epoch; goal: within
0.5 % of one host's (Linear Learner's same-quality goal in `scaling.py`).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
from multiprocessing.queues import Queue
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

HEADER = "| predictor_type | shards | averages | validation loss | vs 1 host |"


def make_data(rows: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 16)).astype(np.float32)
    x[: rows // 2, :4] += 1.5  # two populations, so that sorted shards also differ in their features
    y = x[:, :8].sum(axis=1) + np.sin(3 * x[:, 8]) * x[:, 9] + rng.normal(scale=0.1, size=rows)
    if kind == "binary_classifier":
        y = (y > 1.0).astype(np.float32)
    return x, y.astype(np.float32)


def train(
    rank: int, world: int, port: int, args: Any, kind: str, shards: str, corrected: bool, out: Queue
) -> None:
    import torch
    import torch.distributed as dist

    from trainplane.algorithms.formats import Dataset
    from trainplane.algorithms.linear_learner import averaging, hyperparameters
    from trainplane.algorithms.linear_learner.distributed import Collective
    from trainplane.algorithms.linear_learner.fit import _fit_scaler
    from trainplane.algorithms.linear_learner.losses import make_loss
    from trainplane.algorithms.linear_learner.model import MultiLinear, model_grid
    from trainplane.algorithms.linear_learner.trainer import Trainer

    os.sched_setaffinity(0, {rank % os.cpu_count()})  # type: ignore[operator]
    torch.set_num_threads(1)
    averaging.DRIFT_CORRECTION = corrected
    x, y = make_data(args.rows, kind)
    if shards == "label-sorted":
        order = np.argsort(y, kind="stable")
        x, y = x[order], y[order]
    group = Collective()
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
        group = Collective(rank, world)
    lo, hi = rank * len(y) // world, (rank + 1) * len(y) // world
    mine, everything = Dataset(x[lo:hi], y[lo:hi]), Dataset(x, y)
    hp = hyperparameters.parse(
        {
            "predictor_type": kind,
            "feature_dim": "16",
            "mini_batch_size": str(args.batch),
            "epochs": str(args.epochs),
            "early_stopping_patience": str(args.epochs),
        }
    )
    scaler = _fit_scaler(mine, hp, group)
    model = MultiLinear(16, hp, model_grid(hp))
    trainer = Trainer(hp, mine, everything, scaler, make_loss(hp, scaler.label_scale), None, model, group)
    for epoch in range(args.epochs):
        trainer.train_epoch(epoch)
    loss = trainer.replicated_loss(model.P, everything)
    if rank == 0:
        out.put(float(np.nanmin(loss)))
    group.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(args: Any, kind: str, world: int, shards: str = "shuffled", corrected: bool = True) -> float:
    ctx = mp.get_context("spawn")
    out: Queue = ctx.Queue()
    port = free_port()
    ranks = [
        ctx.Process(target=train, args=(rank, world, port, args, kind, shards, corrected, out))
        for rank in range(world)
    ]
    for process in ranks:
        process.start()
    loss = out.get(timeout=1800)
    for process in ranks:
        process.join()
    return float(loss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    rows = []
    for kind in ("regressor", "binary_classifier"):
        for shards in ("shuffled", "label-sorted"):
            alone = run(args, kind, 1, shards)  # the same rows in the same order, on one host
            print(f"{kind}: 1 host, {shards} {alone:.6f}", flush=True)
            rows.append(f"| {kind} | {shards}, 1 host | - | {alone:.6f} | - |")
            for corrected in (False, True):
                loss = run(args, kind, 2, shards, corrected)
                change = 100 * (loss - alone) / alone
                verdict = "meets" if abs(change) <= 0.5 else "misses"
                averages = "drift-corrected" if corrected else "plain"
                print(f"{kind}: 2 hosts, {shards}, {averages}: {loss:.6f} ({change:+.2f} %)", flush=True)
                figure = f"{change:+.2f} % ({verdict} 0.5 %)"
                rows.append(f"| {kind} | {shards} | {averages} | {loss:.6f} | {figure} |")
    print(f"rows={args.rows} epochs={args.epochs} mini_batch_size={args.batch}")
    print(HEADER)
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
