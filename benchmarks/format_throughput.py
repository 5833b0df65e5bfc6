"""Reading throughput of the built-ins' channel formats vs pyarrow's own readers, on the same files.

    .venv/bin/python benchmarks/format_throughput.py [--rows 300000] [--features 50] [--repeat 3]

One random float32 data set (label + ``features`` columns) is written as CSV (``%.7g``), Parquet
(snappy) and RecordIO-protobuf (dense records, as the SageMaker SDK writes them). Each reader turns a
file into float32 features + labels; the time is the best of ``--repeat`` runs and MB/s is the *file*
size over that time (so CSV's MB/s counts text bytes). Peers: ``pyarrow.csv.read_csv`` with the same
float32 column types and ``pyarrow.parquet.read_table``, each followed by the conversion to one float32
NumPy matrix that training needs (without it pyarrow's numbers would measure less work); RecordIO has
no pyarrow reader, so its row shows ``numpy.fromfile`` of the raw float32 bytes as an upper bound.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from trainplane.algorithms.formats.csv import read_csv_files
from trainplane.algorithms.formats.parquet import read_parquet_files
from trainplane.algorithms.formats.recordio_protobuf import (
    read_recordio_protobuf_files,
    write_recordio_protobuf,
)


def write_files(directory: Path, rows: int, features: int) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, features), dtype=np.float32)
    y = (rng.random(rows) < 0.5).astype(np.float32)
    paths = {name: directory / f"data.{name}" for name in ("csv", "parquet", "rec", "raw")}
    table = pa.table({"label": y, **{f"f{j}": x[:, j] for j in range(features)}})
    pacsv.write_csv(table, paths["csv"], pacsv.WriteOptions(include_header=False))
    pq.write_table(table, paths["parquet"])
    write_recordio_protobuf(paths["rec"], x, y)
    np.column_stack([y, x]).astype(np.float32).tofile(paths["raw"])
    return paths


def arrow_csv(path: Path, columns: int) -> np.ndarray:
    names = [f"c{i}" for i in range(columns)]
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.float32())),
    )
    return np.column_stack([table.column(i).to_numpy() for i in range(1, columns)])


def arrow_parquet(path: Path) -> np.ndarray:
    table = pq.read_table(path)
    return np.column_stack([table.column(i).to_numpy() for i in range(1, table.num_columns)])


def best_time(read: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        read()
        times.append(time.perf_counter() - start)
        pa.default_memory_pool().release_unused()
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    columns = args.features + 1
    with tempfile.TemporaryDirectory(prefix="format-bench-") as scratch:
        paths = write_files(Path(scratch), args.rows, args.features)
        cases = [
            ("csv", "trainplane", lambda: read_csv_files([paths["csv"]], {})),
            ("csv", "pyarrow read_csv", lambda: arrow_csv(paths["csv"], columns)),
            ("parquet", "trainplane", lambda: read_parquet_files([paths["parquet"]], {})),
            ("parquet", "pyarrow read_table", lambda: arrow_parquet(paths["parquet"])),
            ("recordio-protobuf", "trainplane", lambda: read_recordio_protobuf_files([paths["rec"]], {})),
            ("recordio-protobuf", "numpy.fromfile (raw f32)", lambda: np.fromfile(paths["raw"], np.float32)),
        ]
        print(f"{args.rows} rows x {args.features} float32 features; best of {args.repeat}")
        header = f"{'format':<18} {'reader':<26} {'file MB':>8} {'seconds':>8} {'MB/s':>8} {'Mrows/s':>8}"
        print(header)
        print("-" * len(header))
        for fmt, reader, read in cases:
            key = {"csv": "csv", "parquet": "parquet", "recordio-protobuf": "rec"}[fmt]
            path = paths["raw"] if reader.startswith("numpy") else paths[key]
            size = path.stat().st_size / 1e6
            seconds = best_time(read, args.repeat)
            print(
                f"{fmt:<18} {reader:<26} {size:>8.1f} {seconds:>8.3f} {size / seconds:>8.1f} "
                f"{args.rows / seconds / 1e6:>8.2f}"
            )


if __name__ == "__main__":
    main()
