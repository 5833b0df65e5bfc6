"""What two hosts' collectives cost distributed Linear Learner's epochs, without the platform around them.

    .venv/bin/python benchmarks/linear_learner_collectives.py [--rows 1000000] [--batches 1000,10000]
                                                             [--epochs 8] [--repeats 3]

The trainer's epoch (``Trainer.train_epoch``: 32 models, 16 features, local steps and drift-corrected
model averages every ~256k rows) on ``--rows`` rows per host, each host a process pinned to its own
core with one thread. The peer is the same epoch on one host alone, with the other core idle; two
hosts run the same rows each over gloo on loopback, so an epoch that scaled perfectly would take as
long on two hosts as on one. Printed per batch size: median ms per epoch alone and on two hosts, the
ms of those spent in the model averages (their all-reduce and the wait for the other host), and the
ratio alone / two hosts, the ceiling these epochs put on ``scaling.py``'s efficiency. Also the
all-reduce's own latency for the averaging buffer (2,200 float64) and for 8 values, 500 in a row.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from trainplane.control.plans import free_port

HOST = """
import datetime, os, sys, time
rank, world, port, batch, rows, epochs = (int(v) for v in sys.argv[1:7])
os.sched_setaffinity(0, {{rank}})
import numpy as np, torch, torch.distributed as dist
torch.set_num_threads(1)
from trainplane.algorithms.formats import Dataset
from trainplane.algorithms.linear_learner import data
from trainplane.algorithms.linear_learner.distributed import Collective
from trainplane.algorithms.linear_learner.hyperparameters import parse
from trainplane.algorithms.linear_learner.losses import make_loss
from trainplane.algorithms.linear_learner.model import MultiLinear, model_grid
from trainplane.algorithms.linear_learner.trainer import Trainer
rng = np.random.default_rng(rank)
x = (np.round(rng.normal(size=(rows, 16)) / 0.05) * 0.05).astype(np.float32)
y = (x[:, :8].sum(1) + rng.normal(scale=0.1, size=rows)).astype(np.float32)
hp = parse({{"predictor_type": "regressor", "mini_batch_size": str(batch), "num_models": "32"}})
group = Collective()
if world > 1:
    timeout = datetime.timedelta(seconds=120)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{{port}}", rank=rank,
                            world_size=world, timeout=timeout)
    group = Collective(rank, world)
scaler = data.fit_scaler(Dataset(x, y), hp)
model = MultiLinear(16, hp, model_grid(hp))
trainer = Trainer(hp, Dataset(x, y), None, scaler, make_loss(hp, scaler.label_scale), None, model, group)
waited = [0.0]
average = trainer.averager.average
def timed(*args):
    started = time.perf_counter()
    average(*args)
    waited[0] += time.perf_counter() - started
trainer.averager.average = timed
trainer.train_epoch(0)  # warm-up
waited[0] = 0.0
started = time.perf_counter()
for epoch in range(1, epochs + 1):
    trainer.train_epoch(epoch)
epoch_ms = (time.perf_counter() - started) / epochs * 1000
latency = {{}}
if world > 1:
    for size in (8, 2200):
        buffer = torch.zeros(size, dtype=torch.float64)
        for _ in range(50):
            dist.all_reduce(buffer)
        started = time.perf_counter()
        for _ in range(500):
            dist.all_reduce(buffer)
        latency[size] = (time.perf_counter() - started) / 500 * 1000
    group.close()
print(epoch_ms, waited[0] / epochs * 1000, latency.get(8, 0.0), latency.get(2200, 0.0))
"""


def run_hosts(world: int, batch: int, rows: int, epochs: int) -> list[float]:
    """algo-1's ms per epoch, ms per epoch in averages, and all-reduce ms for 8 and 2,200 values."""
    port = str(free_port())
    code = HOST.format()
    hosts = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(rank), str(world), port, str(batch), str(rows), str(epochs)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for rank in range(world)
    ]
    outputs = [host.communicate(timeout=600)[0] for host in hosts]
    if any(host.returncode for host in hosts):
        raise SystemExit("a host failed")
    return [float(value) for value in outputs[0].split()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per host")
    parser.add_argument("--batches", default="1000,10000", help="mini_batch_size values")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("needs two cores")
    print(f"rows={args.rows} per host, {args.epochs} epochs, median of {args.repeats} runs taken in turn")
    print("| batch | 1 host ms/epoch | 2 hosts ms/epoch | of which averages | 1 host / 2 hosts |")
    print("|---|---|---|---|---|")
    latencies: list[tuple[float, float]] = []
    for batch in map(int, args.batches.split(",")):
        alone, pair, waits = [], [], []
        for _ in range(args.repeats):
            alone.append(run_hosts(1, batch, args.rows, args.epochs)[0])
            epoch_ms, wait_ms, small, large = run_hosts(2, batch, args.rows, args.epochs)
            pair.append(epoch_ms)
            waits.append(wait_ms)
            latencies.append((small, large))
        one, two = statistics.median(alone), statistics.median(pair)
        print(f"| {batch} | {one:.1f} | {two:.1f} | {statistics.median(waits):.1f} | {one / two:.3f} |")
    small = statistics.median(s for s, _ in latencies)
    large = statistics.median(b for _, b in latencies)
    print(f"gloo all-reduce on loopback, median of {len(latencies)} runs of 500: 8 float64 {small:.2f} ms, "
          f"2,200 float64 {large:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
