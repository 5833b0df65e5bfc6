"""Two Linear Learner hosts over torch.distributed on shards that differ (sorted by label) match one host."""

from __future__ import annotations

import multiprocessing as mp
import socket
from multiprocessing.queues import Queue

import numpy as np
import pytest

ROWS, EPOCHS, BATCH, SYNC_ROWS = 40_000, 4, 100, 5_000  # 4 averages per epoch on 20k rows per host


def label_sorted_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, 8)).astype(np.float32)
    x[: ROWS // 2, :2] += 1.5
    y = x[:, :4].sum(axis=1) + np.sin(3 * x[:, 4]) * x[:, 5] + rng.normal(scale=0.1, size=ROWS)
    order = np.argsort(y, kind="stable")
    return x[order], y[order].astype(np.float32)


def train(rank: int, world: int, port: int, corrected: bool, out: Queue) -> None:
    import torch
    import torch.distributed as dist

    from trainplane.algorithms.formats import Dataset
    from trainplane.algorithms.linear_learner import averaging, hyperparameters
    from trainplane.algorithms.linear_learner import trainer as trainer_module
    from trainplane.algorithms.linear_learner.data import fit_scaler
    from trainplane.algorithms.linear_learner.distributed import Collective
    from trainplane.algorithms.linear_learner.losses import make_loss
    from trainplane.algorithms.linear_learner.model import MultiLinear, model_grid

    torch.set_num_threads(1)
    averaging.DRIFT_CORRECTION = corrected
    trainer_module.SYNC_ROWS = SYNC_ROWS
    x, y = label_sorted_data()
    group = Collective()
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
        group = Collective(rank, world)
    lo, hi = rank * ROWS // world, (rank + 1) * ROWS // world
    everything = Dataset(x, y)
    settings = {"predictor_type": "regressor", "mini_batch_size": str(BATCH), "epochs": str(EPOCHS)}
    hp = hyperparameters.parse({**settings, "num_models": "4"})
    scaler = fit_scaler(everything, hp)  # the same normalisation everywhere: only the averaging differs
    model = MultiLinear(8, hp, model_grid(hp))
    loss = make_loss(hp, scaler.label_scale)
    trainer = trainer_module.Trainer(hp, Dataset(x[lo:hi], y[lo:hi]), None, scaler, loss, None, model, group)
    for epoch in range(EPOCHS):
        trainer.train_epoch(epoch)
    result = trainer.replicated_loss(model.P, everything)
    if rank == 0:
        out.put(float(np.nanmin(result)))
    group.close()


def validation_loss(world: int, corrected: bool = True) -> float:
    ctx = mp.get_context("spawn")
    out: Queue = ctx.Queue()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ranks = [ctx.Process(target=train, args=(rank, world, port, corrected, out)) for rank in range(world)]
    for process in ranks:
        process.start()
    loss = out.get(timeout=120)
    for process in ranks:
        process.join(timeout=60)
        assert process.exitcode == 0
    return float(loss)


@pytest.mark.slow
def test_drift_corrected_averages_match_one_host_where_plain_averages_do_not() -> None:
    alone = validation_loss(1)
    corrected = validation_loss(2)
    plain = validation_loss(2, corrected=False)
    print(f"1 host {alone:.6f}, 2 hosts corrected {corrected:.6f}, plain {plain:.6f}")
    assert corrected <= alone * 1.005  # as good as one host (its batches of like labels can do worse)
    assert plain > alone * 1.01  # the shards pull the hosts apart: what the correction is for
