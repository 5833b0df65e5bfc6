"""Training-data formats shared by the built-in algorithms.

Every reader returns a :class:`Dataset`: float32 features (dense ``numpy.ndarray`` or
``scipy.sparse.csr_matrix``), labels and optional instance weights. ``read_channel`` picks the reader
from the channel's ContentType the way SageMaker's containers do (case-insensitive, parameters after
``;`` allowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


class DataFormatError(ValueError):
    """Unreadable or malformed channel data; the message names the file and the problem."""


@dataclass
class Dataset:
    features: Any  # numpy.ndarray (float32, 2-D) or scipy.sparse.csr_matrix
    labels: np.ndarray | None
    weights: np.ndarray | None = None

    @property
    def num_rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.features.shape[1])

    def rows(self, lo: int, hi: int) -> Dataset:
        """Rows ``[lo, hi)`` (views where the arrays allow)."""

        def part(values: Any) -> Any:
            return None if values is None else values[lo:hi]

        return Dataset(self.features[lo:hi], part(self.labels), part(self.weights))


def row_share(rows: int, rank: int, world: int) -> tuple[int, int]:
    """Host ``rank``'s contiguous share ``[lo, hi)`` of ``rows`` rows every host holds: the shares of
    ``world`` hosts differ by one row at most and together are every row once."""
    return rows * rank // world, rows * (rank + 1) // world


def is_sparse(x: Any) -> bool:
    """``scipy.sparse.issparse`` without importing scipy (~15 MiB RSS) for dense-only jobs."""
    return type(x).__module__.startswith("scipy.sparse")


CSV = "csv"
LIBSVM = "libsvm"
PARQUET = "parquet"
RECORDIO_PROTOBUF = "recordio-protobuf"

_CONTENT_TYPES = {
    "csv": CSV,
    "text/csv": CSV,
    "libsvm": LIBSVM,
    "text/libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
    "parquet": PARQUET,
    "application/x-parquet": PARQUET,
    "recordio-protobuf": RECORDIO_PROTOBUF,
    "application/x-recordio-protobuf": RECORDIO_PROTOBUF,
}


def parse_content_type(content_type: str | None, default: str) -> tuple[str, dict[str, str]]:
    """Return (format, parameters) for a ContentType such as ``text/csv;label_size=1``."""
    if not content_type:
        return default, {}
    media, _, rest = content_type.partition(";")
    fmt = _CONTENT_TYPES.get(media.strip().lower())
    if fmt is None:
        raise DataFormatError(f"Content type {content_type} is not supported.")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        if "=" in part:
            key, _, value = part.partition("=")
            params[key.strip().lower()] = value.strip()
    return fmt, params


def list_data_files(directory: Path, max_depth: int = 3) -> list[Path]:
    """Data files under a channel directory, sorted; hidden (``.``) and ``_`` files are skipped."""
    found: list[Path] = []

    def walk(path: Path, depth: int) -> None:
        for entry in sorted(path.iterdir()):
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_dir():
                if depth < max_depth:
                    walk(entry, depth + 1)
            elif entry.is_file():
                found.append(entry)

    if directory.is_dir():
        walk(directory, 1)
    return found


def read_channel(directory: Path, content_type: str | None, *, default_format: str = CSV) -> Dataset:
    """Read every data file of a channel directory into one Dataset."""
    fmt, params = parse_content_type(content_type, default_format)
    files = list_data_files(directory)
    if not files:
        raise DataFormatError(f"No data files found in channel directory {directory}.")
    if fmt == CSV:
        from trainplane.algorithms.formats.csv import read_csv_files

        return read_csv_files(files, params)
    if fmt == LIBSVM:
        from trainplane.algorithms.formats.libsvm import read_libsvm_files

        return read_libsvm_files(files, params)
    if fmt == PARQUET:
        from trainplane.algorithms.formats.parquet import read_parquet_files

        return read_parquet_files(files, params)
    from trainplane.algorithms.formats.recordio_protobuf import read_recordio_protobuf_files

    return read_recordio_protobuf_files(files, params)
