"""Reading Parquet channels: trainplane's reader against pyarrow's whole-table read stacked by NumPy.

    .venv/bin/python benchmarks/parquet_read.py [--rows 1000000] [--repeats 5]

The data is what one host of ``benchmarks/scaling.py``'s two-host job reads: 4 objects of 250k rows, a
float32 label and 16 float32 features. Every read runs in a fresh interpreter pinned to one core, as a
job's host does (its memory is new, which is what a host pays), with a second reader on the other core
when there is one (the two hosts of a job read at the same time). The peer is the obvious reader:
``pq.read_table`` per file, then ``np.column_stack`` of the feature columns and ``np.concatenate`` of the
files. Both produce the same float32 row-major matrix; the table prints median seconds and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

READ = """
import os, sys, time
os.sched_setaffinity(0, {{{core}}})
from pathlib import Path
import numpy as np, pyarrow.parquet as pq
from trainplane.algorithms.formats.parquet import read_parquet_files
files = sorted(Path({directory!r}).glob("part-*.parquet"))
start = time.perf_counter()
if {peer}:
    tables = [pq.read_table(f) for f in files]
    labels = np.concatenate([t.column(0).to_numpy() for t in tables])
    features = np.concatenate(
        [np.column_stack([t.column(i).to_numpy() for i in range(1, t.num_columns)]) for t in tables]
    )
else:
    data = read_parquet_files(files, {{}})
    labels, features = data.labels, data.features
print(time.perf_counter() - start, features.shape[0], float(features.sum(dtype=np.float64)))
"""


def write_parts(directory: Path, rows: int, parts: int, seed: int) -> None:
    directory.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for part in range(parts):
        n = rows // parts
        x = rng.normal(size=(n, 16)).astype(np.float32)
        columns = {"label": x[:, 0] + rng.normal(size=n).astype(np.float32)}
        columns.update({f"f{i}": x[:, i] for i in range(16)})
        pq.write_table(pa.table(columns), directory / f"part-{part}.parquet")


def read_once(directories: list[Path], peer: bool) -> tuple[float, float]:
    """Seconds of the reader on core 0 (another reading beside it on core 1), and its checksum."""
    cores = sorted(os.sched_getaffinity(0))[: len(directories)]
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READ.format(core=core, directory=str(d), peer=peer)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for core, d in zip(cores, directories, strict=False)
    ]
    outputs = [reader.communicate()[0].split() for reader in readers]
    if any(reader.returncode for reader in readers):
        raise SystemExit("a reader failed")
    return float(outputs[0][0]), float(outputs[0][2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per reader")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directories = [Path(tmp) / f"host-{i}" for i in range(2)]
        for i, directory in enumerate(directories):
            write_parts(directory, args.rows, 4, i)
        times: dict[bool, list[float]] = {False: [], True: []}
        sums: dict[bool, float] = {}
        for _ in range(args.repeats):  # taken in turn, so that a slow spell hits both
            for peer in (False, True):
                seconds, sums[peer] = read_once(directories, peer)
                times[peer].append(seconds)
    if not np.isclose(sums[False], sums[True], rtol=1e-12):
        raise SystemExit(f"the readers disagree: checksums {sums[False]} and {sums[True]}")
    ours, peer = statistics.median(times[False]), statistics.median(times[True])
    print(f"rows={args.rows} x 16 features per reader, 4 objects, {args.repeats} fresh reads each")
    print("| reader | median s | runs (s) |")
    print("|---|---|---|")
    for name, key in (("trainplane read_parquet_files", False), ("pq.read_table + np.column_stack", True)):
        runs = " ".join(f"{t:.3f}" for t in times[key])
        print(f"| {name} | {statistics.median(times[key]):.3f} | {runs} |")
    print(f"ratio trainplane / peer: {ours / peer:.2f}")


if __name__ == "__main__":
    main()
