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


def _table_arrays(
    path: Path | str, source: Path | pa.BufferReader | None = None
) -> tuple[np.ndarray, np.ndarray]:
    table = _read_table(path if source is None else source, str(path))
    if table.num_columns < 2:
        raise DataFormatError(f"Parquet file {path} needs a label column and at least one feature column.")
    arrays = [_as_float32(table.column(i), path, name) for i, name in enumerate(table.column_names)]
    if np.isnan(arrays[0]).any():
        raise DataFormatError(f"Parquet file {path}: missing label value.")
    return arrays[0], np.stack(arrays[1:], axis=1)


def read_parquet_files(files: Sequence[Path], params: Mapping[str, str]) -> Dataset:
    """Read Parquet files with the same columns into one Dataset (nulls in features become NaN)."""
    parts = [_table_arrays(path) for path in files]
    widths = {features.shape[1] for _, features in parts}
    if len(widths) > 1:
        raise DataFormatError(f"Parquet files have different numbers of feature columns: {sorted(widths)}.")
    labels = np.concatenate([labels for labels, _ in parts])
    features = parts[0][1] if len(parts) == 1 else np.concatenate([f for _, f in parts])
    return Dataset(features=np.ascontiguousarray(features, dtype=np.float32), labels=labels)


def read_parquet_bytes(buf: bytes, name: str) -> Dataset:
    """Read one Parquet file's bytes (a Pipe-mode stream: Parquet needs the whole file to seek in)."""
    labels, features = _table_arrays(name, pa.BufferReader(buf))
    return Dataset(features=np.ascontiguousarray(features, dtype=np.float32), labels=labels)
