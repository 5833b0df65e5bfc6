"""Storing a job's output: ``Store.ingest_output`` against the sqlite3 module's ``executemany``.

    .venv/bin/python benchmarks/log_ingestion.py [--lines 20000] [--batch 100] [--repeats 5]

The control plane stores every output line of a running job, and the metric points scanned from it, a
batch per supervision pass; on a small machine that CPU comes out of the job's own cores. Each batch here
is ``--batch`` lines of Linear Learner's ``#metrics`` JSON (~230 characters) and one metric point per ten
lines, into a migrated SQLite store (WAL, as the default). The peer is the floor under any library: the
standard ``sqlite3`` module's ``executemany`` of the same rows into the same tables, one transaction per
batch, on its own copy of the schema. Both are timed in CPU seconds of this thread (the machine is
shared); the table prints microseconds per stored line and the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from trainplane.store import open_store
from trainplane.store.records import MetricPoint

LINE = (
    '#metrics {"StartTime": 1796642194.19, "EndTime": 1796642194.29, "Dimensions": {"Algorithm": '
    '"Linear Learner", "Host": "algo-1", "Operation": "training", "epoch": 3, "model": 17}, "Metrics": '
    '{"train_mse_objective": {"sum": 0.5097, "count": 1, "min": 0.5097, "max": 0.5097}}}'
)


def batches(lines: int, size: int) -> list[tuple[list[tuple[float, str]], list[MetricPoint]]]:
    out = []
    for start in range(0, lines, size):
        events = [(1796642194.0 + i, LINE) for i in range(start, min(start + size, lines))]
        points = [
            MetricPoint("train:mse", 0.5 + i * 1e-6, t, "algo-1") for i, (t, _) in enumerate(events[::10])
        ]
        out.append((events, points))
    return out


def trainplane_ingest(database: Path) -> Callable[[list[tuple[float, str]], list[MetricPoint]], None]:
    """The store on the copied database, whose job row already exists."""
    store = open_store(f"sqlite:///{database}")

    def ingest(events: list[tuple[float, str]], points: list[MetricPoint]) -> None:
        store.ingest_output("job", "job/algo-1-1", events, points)

    return ingest


def sqlite3_ingest(database: Path) -> Callable[[list[tuple[float, str]], list[MetricPoint]], None]:
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")

    def ingest(events: list[tuple[float, str]], points: list[MetricPoint]) -> None:
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO log_events (job_name, stream, timestamp, message) VALUES (?, ?, ?, ?)",
            [("job", "job/algo-1-1", t, m) for t, m in events],
        )
        connection.executemany(
            "INSERT INTO metric_points (job_name, name, value, timestamp, host) VALUES (?, ?, ?, ?, ?)",
            [("job", p.name, p.value, p.timestamp, p.host) for p in points],
        )
        connection.execute("COMMIT")

    return ingest


def cpu_per_line(make: Callable[[Path], Callable[..., None]], template: Path, lines: int, size: int) -> float:
    """CPU microseconds per stored line, on a fresh copy of the migrated database."""
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "store.db"
        shutil.copy(template, database)
        ingest = make(database)
        work = batches(lines, size)
        start = time.thread_time()
        for events, points in work:
            ingest(events, points)
        return 1e6 * (time.thread_time() - start) / lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.db"
        store = open_store(f"sqlite:///{template}")  # migrated, with the job the peer's rows refer to
        store.create_training_job(name="job", arn="arn", request={}, model_artifacts="file:///m", now=0.0)
        store.engine.dispose()
        ours, peer = [], []
        for _ in range(args.repeats):  # in turn, so a slow spell hits both
            ours.append(cpu_per_line(trainplane_ingest, template, args.lines, args.batch))
            peer.append(cpu_per_line(sqlite3_ingest, template, args.lines, args.batch))
    a, b = statistics.median(ours), statistics.median(peer)
    print(f"{args.lines} lines in batches of {args.batch}, median of {args.repeats}")
    print("| writer | CPU µs per line | vs sqlite3 |")
    print("|---|---|---|")
    print(f"| trainplane `Store.ingest_output` | {a:.2f} | {a / b:.2f}x |")
    print(f"| sqlite3 `executemany` (peer) | {b:.2f} | 1.00x |")


if __name__ == "__main__":
    main()
