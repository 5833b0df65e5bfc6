"""Pipe-mode channels: read ``input/data/<channel>_<epoch>`` FIFOs as SageMaker's algorithms do.

In Pipe mode the platform streams a channel's objects, concatenated, into the FIFO ``<channel>_0``; once
the algorithm has read it to the end (or closed it early) the next epoch's FIFO ``<channel>_1`` appears,
and so on. A FIFO may appear a little after the previous one was closed, so readers poll for it.

Formats: CSV is parsed as a stream; RecordIO-protobuf and Parquet are read into memory first (their
readers need the whole buffer). LIBSVM has no Pipe-mode reader, as in SageMaker's XGBoost container.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from trainplane.algorithms.formats import (
    CSV,
    LIBSVM,
    PARQUET,
    DataFormatError,
    Dataset,
    parse_content_type,
)

PIPE = "Pipe"
FIFO_TIMEOUT_SECONDS = 120.0
_POLL_SECONDS = 0.02


def is_pipe(channel_config: Mapping[str, str]) -> bool:
    """Whether inputdataconfig.json's entry for a channel says TrainingInputMode Pipe."""
    return channel_config.get("TrainingInputMode") == PIPE


def fifo_path(data_dir: Path, channel: str, epoch: int) -> Path:
    return Path(data_dir) / f"{channel}_{epoch}"


def wait_for_fifo(path: Path, timeout: float = FIFO_TIMEOUT_SECONDS) -> Path:
    """Poll until ``path`` exists and is a FIFO; DataFormatError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if stat.S_ISFIFO(path.stat().st_mode):
                return path
            raise DataFormatError(f"Pipe-mode input {path} exists but is not a FIFO.")
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                raise DataFormatError(
                    f"Pipe-mode input {path} did not appear within {timeout:g} seconds."
                ) from None
            time.sleep(_POLL_SECONDS)


def read_stream(stream: BinaryIO, name: str, fmt: str, params: Mapping[str, str]) -> Dataset:
    """One whole stream in format ``fmt`` (a format constant of this package)."""
    if fmt == LIBSVM:
        raise DataFormatError("Pipe mode not supported for LibSVM.")
    if fmt == CSV:
        from trainplane.algorithms.formats.csv import read_csv_stream

        return read_csv_stream(stream, name, params)
    buf = stream.read()
    if not buf:
        raise DataFormatError(f"Pipe-mode input {name} delivered no data.")
    if fmt == PARQUET:
        from trainplane.algorithms.formats.parquet import read_parquet_bytes

        return read_parquet_bytes(buf, name)
    from trainplane.algorithms.formats.recordio_protobuf import read_recordio_protobuf_bytes

    features, labels = read_recordio_protobuf_bytes(buf, name)
    if features.shape[0] == 0:
        raise DataFormatError(f"No records found in {name}")
    return Dataset(features=features, labels=labels)


def read_pipe(
    data_dir: Path,
    channel: str,
    epoch: int,
    content_type: str | None,
    *,
    default_format: str,
    extra_params: Mapping[str, str] | None = None,
    timeout: float = FIFO_TIMEOUT_SECONDS,
) -> Dataset:
    """Wait for ``<channel>_<epoch>``, read it to its end and close it."""
    fmt, params = parse_content_type(content_type, default_format)
    params.update(extra_params or {})
    if fmt == LIBSVM:
        raise DataFormatError("Pipe mode not supported for LibSVM.")
    path = wait_for_fifo(fifo_path(data_dir, channel, epoch), timeout)
    with path.open("rb") as stream:
        return read_stream(stream, str(path), fmt, params)
