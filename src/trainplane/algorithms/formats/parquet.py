"""Parquet channels: the first column is the label, every other column a numeric feature."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trainplane.algorithms.formats import DataFormatError, Dataset


def _read_table(source: Path | pa.BufferReader, name: str) -> pa.Table:
    try:
        return pq.read_table(source)
    except (pa.ArrowException, OSError) as exc:
        raise DataFormatError(f"Could not read Parquet file {name}: {exc}") from exc


def _as_float32(column: pa.ChunkedArray, path: Path | str, name: str) -> np.ndarray:
    if not (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_boolean(column.type)
    ):
        raise DataFormatError(f"Parquet file {path}: column '{name}' has non-numeric type {column.type}.")
    return column.cast(pa.float32()).to_numpy()


def _check_columns(columns: int, path: Path | str) -> None:
    if columns < 2:
        raise DataFormatError(f"Parquet file {path} needs a label column and at least one feature column.")


def _fill(table: pa.Table, path: Path | str, labels: np.ndarray, features: np.ndarray) -> None:
    """Write ``table``'s label and feature columns straight into preallocated rows of the result (one
    copy per column, instead of stacking each file and then concatenating the files)."""
    for i, name in enumerate(table.column_names):
        column = _as_float32(table.column(i), path, name)
        if i == 0:
            if np.isnan(column).any():
                raise DataFormatError(f"Parquet file {path}: missing label value.")
            labels[:] = column
        else:
            features[:, i - 1] = column


def _widths(files: Sequence[Path]) -> tuple[list[int], int]:
    """Rows per file and the common feature count, from the files' metadata (no data read)."""
    rows, widths = [], set()
    for path in files:
        try:
            metadata = pq.ParquetFile(path).metadata
        except (pa.ArrowException, OSError) as exc:
            raise DataFormatError(f"Could not read Parquet file {path}: {exc}") from exc
        _check_columns(metadata.num_columns, path)
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
        table = _read_table(path, str(path))
        _check_columns(table.num_columns, path)
        _fill(table, path, labels[start : start + count], features[start : start + count])
        start += count
    return Dataset(features=features, labels=labels)


def read_parquet_bytes(buf: bytes, name: str) -> Dataset:
    """Read one Parquet file's bytes (a Pipe-mode stream: Parquet needs the whole file to seek in)."""
    table = _read_table(pa.BufferReader(buf), name)
    _check_columns(table.num_columns, name)
    labels = np.empty(table.num_rows, dtype=np.float32)
    features = np.empty((table.num_rows, table.num_columns - 1), dtype=np.float32)
    _fill(table, name, labels, features)
    return Dataset(features=features, labels=labels)
