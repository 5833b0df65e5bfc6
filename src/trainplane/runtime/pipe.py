"""Pipe input mode: stream a channel's staged objects through FIFOs, one per epoch (§5.2).

For a Pipe-mode channel the agent stages the objects as usual, but into a private directory outside the
job root; a :class:`PipeFeeder` then creates ``input/data/<channel>_0`` and writes every staged object
into it, concatenated in key order. When the whole channel has been written, or the algorithm closed its
end early (which is how an algorithm ends an epoch), that FIFO is removed and ``<channel>_1`` appears,
ready for the next epoch, and so on until the algorithm exits. ``<channel>_0`` exists before the
algorithm starts; later FIFOs appear only after the previous one is done, so algorithms poll for them.

As in SageMaker, ``CompressionType: Gzip`` objects are decompressed into the stream, and
``RecordWrapperType: RecordIO`` wraps each (decompressed) object in one RecordIO record.

:class:`PipeChannels` is the agent's side: ``route`` says where a channel is staged (and stages a Pipe
channel in File mode), ``start`` and ``stop`` run the feeders around the algorithm's process.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import os
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from trainplane.runtime import recordio

PIPE = "Pipe"
_CHUNK = 1 << 20
_POLL_SECONDS = 0.02


def channel_mode(channel: Mapping[str, Any], training_input_mode: str | None) -> str:
    """The channel's InputMode, else the job's TrainingInputMode, else File."""
    return str(channel.get("InputMode") or training_input_mode or "File")


def staged_files(directory: Path) -> list[Path]:
    """Every staged object under ``directory``, in key (path) order."""
    return sorted(path for path in directory.rglob("*") if path.is_file())


class PipeError(Exception):
    """A Pipe channel cannot be fed; the message is the job's ClientError FailureReason."""


class PipeFeeder:
    """Feeds one channel's files into ``<data_dir>/<channel>_<epoch>`` FIFOs, epoch after epoch."""

    def __init__(
        self,
        name: str,
        source: Path,
        data_dir: Path,
        *,
        gzip_objects: bool = False,
        record_io: bool = False,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.name, self.source, self.data_dir = name, source, data_dir
        self.gzip_objects, self.record_io, self.log = gzip_objects, record_io, log
        self.epochs_fed = 0  # FIFOs fully written or closed early by the reader
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._files: list[Path] = []

    def fifo(self, epoch: int) -> Path:
        return self.data_dir / f"{self.name}_{epoch}"

    def start(self) -> None:
        """Create ``<channel>_0`` now (so it exists when the algorithm starts) and feed in a thread."""
        self._files = staged_files(self.source)
        self._check_files()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.mkfifo(self.fifo(0))
        self._thread = threading.Thread(target=self._run, name=f"pipe-{self.name}", daemon=True)
        self._thread.start()

    def _check_files(self) -> None:
        """What can be told before the algorithm starts: each object of a Gzip channel starts as gzip
        data does, and an object to wrap fits in one RecordIO record."""
        for path in self._files:
            key = path.relative_to(self.source).as_posix()
            if self.gzip_objects:
                with path.open("rb") as handle:
                    if handle.read(2) not in (b"", b"\x1f\x8b"):
                        raise PipeError(
                            f'ClientError: Object "{key}" of channel "{self.name}" is not gzip data, '
                            "but the channel's CompressionType is Gzip"
                        )
            elif self.record_io and path.stat().st_size > recordio.MAX_PART_BYTES:
                raise PipeError(
                    f'ClientError: Object "{key}" of channel "{self.name}" is larger than a RecordIO '
                    f"record can be ({recordio.MAX_PART_BYTES} bytes); use RecordWrapperType None"
                )

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with contextlib.suppress(FileNotFoundError):
            self.fifo(self.epochs_fed).unlink()

    def _run(self) -> None:
        epoch = 0
        while not self._stop.is_set():
            fd = self._open_writer(self.fifo(epoch))
            if fd is None:
                return
            try:
                self._write_all(fd)
            finally:
                os.close(fd)
            self.fifo(epoch).unlink()
            epoch += 1
            self.epochs_fed = epoch
            if self._stop.is_set():
                return
            os.mkfifo(self.fifo(epoch))

    def _open_writer(self, path: Path) -> int | None:
        """Wait for a reader (opening a FIFO for writing without one fails with ENXIO); None if stopped."""
        while not self._stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                self._stop.wait(_POLL_SECONDS)
                continue
            os.set_blocking(fd, True)
            return fd
        return None

    def _write_all(self, fd: int) -> None:
        """Write every file; a reader that closes early (EPIPE) just ends this epoch. An object that
        turns out corrupt ends the feeding (logged): the algorithm sees its stream end there."""
        try:
            for path in self._files:
                for chunk in self._chunks(path):
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view) :]
        except BrokenPipeError:
            pass
        except (OSError, EOFError, zlib.error, recordio.RecordTooLarge) as exc:
            self.log(f'ClientError: Pipe channel "{self.name}" stopped at a corrupt object: {exc}')
            self._stop.set()

    def _chunks(self, path: Path) -> Iterator[bytes]:
        with path.open("rb", buffering=0) as raw:
            handle: io.RawIOBase | gzip.GzipFile = gzip.GzipFile(fileobj=raw) if self.gzip_objects else raw
            if self.record_io:  # a record's header holds its length: the whole object first
                yield recordio.frame(handle.read())
                return
            while chunk := handle.read(_CHUNK):
                yield chunk


class PipeChannels:
    """The Pipe-mode channels of one host: staged under ``staging_root``, fed into ``data_dir``."""

    def __init__(
        self, staging_root: Path, data_dir: Path, log: Callable[[str], None] = lambda line: None
    ) -> None:
        self.staging_root, self.data_dir, self.log = staging_root, data_dir, log
        self.feeders: list[PipeFeeder] = []

    def route(
        self, channel: Mapping[str, Any], dest: Path, training_input_mode: str | None
    ) -> tuple[Mapping[str, Any], Path]:
        """(channel to stage, directory to stage it into). A Pipe channel is staged in File mode into a
        private directory, and a feeder is registered for it; any other channel passes through."""
        if channel_mode(channel, training_input_mode) != PIPE:
            return channel, dest
        name = str(channel["ChannelName"])
        source = self.staging_root / name
        feeder = PipeFeeder(
            name,
            source,
            self.data_dir,
            gzip_objects=channel.get("CompressionType") == "Gzip",
            record_io=channel.get("RecordWrapperType") == "RecordIO",
            log=self.log,
        )
        self.feeders.append(feeder)
        return {**channel, "InputMode": "File"}, source

    def start(self) -> None:
        """Start every feeder; raises PipeError (nothing left running) if a channel cannot be fed."""
        try:
            for feeder in self.feeders:
                feeder.start()
        except PipeError:
            self.stop()
            raise

    def stop(self) -> None:
        for feeder in self.feeders:
            feeder.stop()
