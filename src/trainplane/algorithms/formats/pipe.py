"""Pipe-mode channels: read ``input/data/<channel>_<epoch>`` FIFOs as SageMaker's algorithms do.

In Pipe mode the platform streams a channel's objects, concatenated, into the FIFO ``<channel>_0``; once
the algorithm has read it to the end (or closed it early) the next epoch's FIFO ``<channel>_1`` appears,
and so on. A FIFO may appear a little after the previous one was closed, so readers poll for it.

Formats: CSV is parsed as a stream; RecordIO-protobuf and Parquet are read into memory first (their
readers need the whole buffer). LIBSVM has no Pipe-mode reader, as in SageMaker's XGBoost container.

Whether a FIFO has any data (a multi-host job excludes a host whose shard is empty) is asked of the
FIFO itself, without reading from it (``fifo_has_data``); the FIFO stays open for ``read_pipe``.
"""

from __future__ import annotations

import os
import select
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
    list_data_files,
    parse_content_type,
)

PIPE = "Pipe"
FIFO_TIMEOUT_SECONDS = 120.0
_POLL_SECONDS = 0.02

# The FIFOs ``fifo_has_data`` found data in, open, for ``read_pipe``: their paths may be gone by then
# (a channel small enough to sit whole in the pipe's buffer is written at once, and the platform then
# removes ``<channel>_0``), and closing them would end the epoch unread.
_held: dict[Path, BinaryIO] = {}


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


def fifo_has_data(path: Path, timeout: float = FIFO_TIMEOUT_SECONDS) -> bool:
    """Whether the FIFO ``path`` delivers any bytes, found without reading them.

    It is opened without blocking and polled until the platform's writer has written something
    (readable: True, and the FIFO is kept open for ``read_pipe``) or has closed it having written
    nothing (a hang-up and nothing to read: an empty channel, False). Linux reports that hang-up only
    once a writer has come and gone, so a FIFO whose writer has not arrived yet is just waited for.
    """
    wait_for_fifo(path, timeout)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    events = poller.poll(timeout * 1000)
    if events and events[0][1] & select.POLLIN:
        os.set_blocking(fd, True)
        _held[path] = os.fdopen(fd, "rb")
        return True
    os.close(fd)
    if not events:
        raise DataFormatError(
            f"Pipe-mode input {path}: nothing was written to it within {timeout:g} seconds."
        )
    return False


def channel_has_data(directory: Path, channel_config: Mapping[str, str]) -> bool:
    """Whether this host has any data in a channel: bytes in its data files in ``directory`` or, in Pipe
    mode, in the FIFO ``<channel>_0`` beside it. Zero-byte objects are no data in either mode."""
    if is_pipe(channel_config):
        return fifo_has_data(fifo_path(directory.parent, directory.name, 0))
    return any(path.stat().st_size > 0 for path in list_data_files(directory))


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
    """Wait for ``<channel>_<epoch>`` (or take it from ``fifo_has_data``), read it to its end, close it."""
    fmt, params = parse_content_type(content_type, default_format)
    params.update(extra_params or {})
    if fmt == LIBSVM:
        raise DataFormatError("Pipe mode not supported for LibSVM.")
    path = fifo_path(data_dir, channel, epoch)
    stream = _held.pop(path, None) or wait_for_fifo(path, timeout).open("rb")
    with stream:
        return read_stream(stream, str(path), fmt, params)
