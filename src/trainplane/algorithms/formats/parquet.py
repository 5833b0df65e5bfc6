"""Parquet channels: the first column is the label, every other column a numeric feature."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trainplane.algorithms.formats import DataFormatError, Dataset

# Rows are decoded a batch at a time, sized so that the batch's slab of the row-major result is about
# this big: it stays in cache while its columns are written in one by one, and Arrow reuses the same few
# buffers. A whole file at once wrote each column across the full matrix, one cache line per value, into
# fresh memory: 0.206 s against 0.179 s for one host's 1M rows x 16 (benchmarks/parquet_read.py).
BATCH_BYTES = 1 << 20
MIN_BATCH_ROWS = 1024


def _as_float32(column: pa.Array, path: Path | str, name: str) -> np.ndarray:
    if not (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_boolean(column.type)
    ):
        raise DataFormatError(f"Parquet file {path}: column '{name}' has non-numeric type {column.type}.")
    return column.cast(pa.float32()).to_numpy(zero_copy_only=False)


def _check_columns(columns: int, path: Path | str) -> None:
    if columns < 2:
        raise DataFormatError(f"Parquet file {path} needs a label column and at least one feature column.")


def _fill(batch: pa.RecordBatch, path: Path | str, labels: np.ndarray, features: np.ndarray) -> None:
    """Write ``batch``'s label and feature columns straight into its rows of the result."""
    for i, name in enumerate(batch.schema.names):
        column = _as_float32(batch.column(i), path, name)
        if i == 0:
            if np.isnan(column).any():
                raise DataFormatError(f"Parquet file {path}: missing label value.")
            labels[:] = column
        else:
            features[:, i - 1] = column


def _metadata(source: Path | pa.BufferReader, name: str) -> pq.FileMetaData:
    try:
        metadata = pq.ParquetFile(source).metadata
    except (pa.ArrowException, OSError) as exc:
        raise DataFormatError(f"Could not read Parquet file {name}: {exc}") from exc
    _check_columns(metadata.num_columns, name)
    return metadata


def _fill_from(source: Path | pa.BufferReader, name: str, labels: np.ndarray, features: np.ndarray) -> int:
    """Read one file into its preallocated rows of the result, a batch at a time; the rows it filled."""
    batch_rows = max(MIN_BATCH_ROWS, BATCH_BYTES // (4 * (features.shape[1] + 1)))
    filled = 0
    try:
        for batch in pq.ParquetFile(source).iter_batches(batch_size=batch_rows):
            end = filled + batch.num_rows
            _fill(batch, name, labels[filled:end], features[filled:end])
            filled = end
    except (pa.ArrowException, OSError) as exc:
        raise DataFormatError(f"Could not read Parquet file {name}: {exc}") from exc
    return filled


def _widths(files: Sequence[Path]) -> tuple[list[int], int]:
    """Rows per file and the common feature count, from the files' metadata (no data read)."""
    rows, widths = [], set()
    for path in files:
        metadata = _metadata(path, str(path))
        rows.append(metadata.num_rows)
        widths.add(metadata.num_columns - 1)
    if len(widths) > 1:
        raise DataFormatError(f"Parquet files have different numbers of feature columns: {sorted(widths)}.")
    return rows, widths.pop()


def read_parquet_files(files: Sequence[Path], params: Mapping[str, str]) -> Dataset:
    """Read Parquet files with the same columns into one Dataset (nulls in features become NaN)."""
    rows, width = _widths(files)
    labels = np.empty(sum(rows), dtype=np.float32)
    features = np.empty((sum(rows), width), dtype=np.float32)
    start = 0
    for path, count in zip(files, rows, strict=True):
        start += _fill_from(path, str(path), labels[start : start + count], features[start : start + count])
    return Dataset(features=features, labels=labels)


def read_parquet_bytes(buf: bytes, name: str) -> Dataset:
    """Read one Parquet file's bytes (a Pipe-mode stream: Parquet needs the whole file to seek in)."""
    metadata = _metadata(pa.BufferReader(buf), name)
    labels = np.empty(metadata.num_rows, dtype=np.float32)
    features = np.empty((metadata.num_rows, metadata.num_columns - 1), dtype=np.float32)
    _fill_from(pa.BufferReader(buf), name, labels, features)
    return Dataset(features=features, labels=labels)
