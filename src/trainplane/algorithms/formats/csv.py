"""CSV channels: label in the first column, no header, delimiter sniffed from the first line.

Reading is the hot path of a large built-in job, so it leans on ``pyarrow.csv`` (every column typed
float32 up front, so no float64 intermediate exists) and keeps the peak close to the result's own size:
files are parsed as a *stream* of record batches (about 1 MiB of text each) and every batch is copied
once, straight into a preallocated C-ordered float32 matrix that XGBoost and torch take without another
copy. The matrix is sized from a newline count (a cheap byte scan), so no whole-file Arrow table ever
exists; Arrow's pool is handed back to the OS after each file.

Pipe-mode channels (a FIFO, read once) cannot be counted first: their batches are gathered and stacked,
which costs one extra copy of the data at the end.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from trainplane.algorithms.formats import DataFormatError, Dataset

_DELIMITERS = (",", "\t", ";", "|", " ")
_SNIFF_BYTES = 1 << 16
_BLOCK_BYTES = 1 << 20
_COUNT_CHUNK = 1 << 24


def _first_line(head: bytes) -> str:
    return head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()


def sniff_delimiter(path: Path) -> str:
    """The first candidate delimiter found in the file's first line (``,`` for a one-column file)."""
    with path.open("rb") as handle:
        return _delimiter_of(handle.read(_SNIFF_BYTES))


def _delimiter_of(head: bytes) -> str:
    line = _first_line(head)
    return next((d for d in _DELIMITERS if d in line), ",")


def _line_bound(path: Path) -> int:
    """An upper bound on the file's record count: its newlines plus one."""
    count = 1
    with path.open("rb", buffering=0) as handle:
        while chunk := handle.read(_COUNT_CHUNK):
            count += chunk.count(b"\n")
    return count


def _batches(source: str | BinaryIO, name: str, delimiter: str, num_columns: int) -> Iterator[pa.RecordBatch]:
    names = [f"c{i}" for i in range(num_columns)]
    try:
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=names, block_size=_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.float32())),
        )
        yield from reader
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"Could not read CSV file {name}: {exc}") from exc


def _put(batch: pa.RecordBatch, leading: int, features: np.ndarray, columns: np.ndarray, at: int) -> int:
    """Copy one batch into ``features[at:]`` (row-major) and its leading columns into ``columns``."""
    rows = batch.num_rows
    arrays = [batch.column(i).to_numpy(zero_copy_only=False) for i in range(batch.num_columns)]
    np.stack(arrays[leading:], axis=1, out=features[at : at + rows])
    for i in range(leading):
        columns[i, at : at + rows] = arrays[i]
    return at + rows


def _release_arrow_memory() -> None:
    """mimalloc keeps freed batch buffers; hand them back so they do not add to the job's peak."""
    pa.default_memory_pool().release_unused()


def _layout(params: Mapping[str, str]) -> tuple[bool, int]:
    if params.get("label_size", "1").strip() != "1":
        raise DataFormatError(
            f"label_size other than 1 is not supported for CSV (got {params['label_size']})."
        )
    weighted = str(params.get("csv_weights", "0")).strip() == "1"
    return weighted, 2 if weighted else 1


def _refuse_gzip(path: Path) -> None:
    """SageMaker's built-ins read File-mode CSV uncompressed; a gzip file would otherwise be sniffed as
    raw bytes and fail with a misleading column count."""
    with path.open("rb") as handle:
        if handle.read(2) == b"\x1f\x8b":
            raise DataFormatError(
                f"CSV file {path} is gzip-compressed: in File mode, channels must hold uncompressed files "
                "(in Pipe mode, the channel's CompressionType Gzip decompresses them)."
            )


def _column_count(head: bytes, name: str, delimiter: str, leading: int) -> int:
    count = len(_first_line(head).split(delimiter))
    if count <= leading:
        raise DataFormatError(f"CSV file {name} has no feature columns ({count} column(s)).")
    return count


def _dataset(features: np.ndarray, columns: np.ndarray, names: str, weighted: bool) -> Dataset:
    if np.isnan(columns[0]).any():
        row = int(np.argmax(np.isnan(columns[0])))
        raise DataFormatError(f"Missing label value in CSV data ({names}), record {row}.")
    if weighted and np.isnan(columns[1]).any():
        raise DataFormatError(f"Missing weight value in CSV data ({names}).")
    return Dataset(features=features, labels=columns[0], weights=columns[1] if weighted else None)


def read_csv_files(files: Sequence[Path], params: Mapping[str, str]) -> Dataset:
    """Read CSV files (same column count each) into one Dataset.

    ``params`` holds ContentType parameters (``label_size``) and the ``csv_weights`` hyperparameter
    (``"1"`` ⇒ the second column is the instance weight).
    """
    weighted, leading = _layout(params)
    names = ", ".join(map(str, files))
    files = [path for path in files if path.stat().st_size > 0]
    if not files:
        raise DataFormatError(f"All CSV files of the channel are empty ({names}).")
    for path in files:
        _refuse_gzip(path)
    with files[0].open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    delimiter = _delimiter_of(head)
    num_columns = _column_count(head, str(files[0]), delimiter, leading)
    capacity = sum(_line_bound(path) for path in files)
    features = np.empty((capacity, num_columns - leading), dtype=np.float32)
    columns = np.empty((leading, capacity), dtype=np.float32)
    at = 0
    for path in files:
        for batch in _batches(str(path), str(path), delimiter, num_columns):
            at = _put(batch, leading, features, columns, at)
        _release_arrow_memory()
    # Untouched tail rows of the np.empty buffers were never paged in; views keep them unpaged.
    return _dataset(features[:at], columns[:, :at], ", ".join(map(str, files)), weighted)


class _Prefixed(io.RawIOBase):
    """A stream that replays the bytes already read from it (the sniffed head) before the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_csv_stream(stream: BinaryIO, name: str, params: Mapping[str, str]) -> Dataset:
    """Read one CSV stream (a Pipe-mode FIFO) to its end."""
    weighted, leading = _layout(params)
    head = stream.read(_SNIFF_BYTES)
    if not head:
        raise DataFormatError(f"CSV stream {name} is empty.")
    delimiter = _delimiter_of(head)
    num_columns = _column_count(head, name, delimiter, leading)
    source = io.BufferedReader(_Prefixed(head, stream), buffer_size=_BLOCK_BYTES)
    parts = [batch for batch in _batches(source, name, delimiter, num_columns) if batch.num_rows]
    total = sum(batch.num_rows for batch in parts)
    features = np.empty((total, num_columns - leading), dtype=np.float32)
    columns = np.empty((leading, total), dtype=np.float32)
    at = 0
    for batch in parts:
        at = _put(batch, leading, features, columns, at)
    del parts
    _release_arrow_memory()
    return _dataset(features, columns, name, weighted)
