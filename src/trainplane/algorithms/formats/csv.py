"""CSV channels: label in the first column, no header, delimiter sniffed from the first line.

Reading is the hot path of a large built-in job, so it leans on ``pyarrow.csv`` (multithreaded parser,
every column typed float32 up front so no float64 intermediate exists) and copies each record batch
exactly once, straight into a preallocated C-ordered float32 matrix that XGBoost can take without
another copy. Batches are a block (about 1 MiB of text) each, so the row-wise stacking stays in cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from trainplane.algorithms.formats import DataFormatError, Dataset

_DELIMITERS = (",", "\t", ";", "|", " ")
_SNIFF_BYTES = 1 << 16


def sniff_delimiter(path: Path) -> str:
    """The first candidate delimiter found in the file's first line (``,`` for a one-column file)."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    first_line = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    for delimiter in _DELIMITERS:
        if delimiter in first_line.strip():
            return delimiter
    return ","


def _column_count(path: Path, delimiter: str) -> int:
    with path.open("rb") as handle:
        first_line = handle.read(_SNIFF_BYTES).split(b"\n", 1)[0].decode("utf-8", errors="replace")
    return len(first_line.strip().split(delimiter))


def _read_table(path: Path, delimiter: str, num_columns: int) -> pa.Table:
    names = [f"c{i}" for i in range(num_columns)]
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.float32())),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"Could not read CSV file {path}: {exc}") from exc


def _fill(
    table: pa.Table, first_feature: int, features: np.ndarray, columns: np.ndarray, offset: int
) -> None:
    """Copy one table into ``features[offset:]`` (row-major) and its leading columns into ``columns``."""
    for batch in table.to_batches():
        rows = batch.num_rows
        arrays = [batch.column(i).to_numpy(zero_copy_only=False) for i in range(batch.num_columns)]
        np.stack(arrays[first_feature:], axis=1, out=features[offset : offset + rows])
        for i in range(first_feature):
            columns[i, offset : offset + rows] = arrays[i]
        offset += rows


def _check_leading_columns(columns: np.ndarray, files: Sequence[Path], weighted: bool) -> None:
    if np.isnan(columns[0]).any():
        raise DataFormatError(f"Missing label value in CSV data ({', '.join(map(str, files))}).")
    if weighted and np.isnan(columns[1]).any():
        raise DataFormatError(f"Missing weight value in CSV data ({', '.join(map(str, files))}).")


def read_csv_files(files: Sequence[Path], params: Mapping[str, str]) -> Dataset:
    """Read CSV files (same column count each) into one Dataset.

    ``params`` holds ContentType parameters (``label_size``) and the ``csv_weights`` hyperparameter
    (``"1"`` ⇒ the second column is the instance weight).
    """
    if params.get("label_size", "1").strip() != "1":
        raise DataFormatError(
            f"label_size other than 1 is not supported for CSV (got {params['label_size']})."
        )
    weighted = str(params.get("csv_weights", "0")).strip() == "1"
    leading = 2 if weighted else 1
    files = [path for path in files if path.stat().st_size > 0]
    if not files:
        raise DataFormatError("All CSV files of the channel are empty.")
    delimiter = sniff_delimiter(files[0])
    num_columns = _column_count(files[0], delimiter)
    if num_columns <= leading:
        raise DataFormatError(f"CSV file {files[0]} has no feature columns ({num_columns} column(s)).")
    tables = [_read_table(path, delimiter, num_columns) for path in files]
    total = sum(table.num_rows for table in tables)
    features = np.empty((total, num_columns - leading), dtype=np.float32)
    columns = np.empty((leading, total), dtype=np.float32)
    offset = 0
    for table in tables:
        _fill(table, leading, features, columns, offset)
        offset += table.num_rows
    _check_leading_columns(columns, files, weighted)
    return Dataset(features=features, labels=columns[0], weights=columns[1] if weighted else None)
