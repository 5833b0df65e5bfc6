"""Pipe input mode: stream a channel's staged objects through FIFOs, one per epoch (§5.2).

For a Pipe-mode channel the agent stages the objects as usual, but into a private directory outside the
job root; a :class:`PipeFeeder` then creates ``input/data/<channel>_0`` and writes every staged object
into it, concatenated in key order. When the whole channel has been written, or the algorithm closed its
end early (which is how an algorithm ends an epoch), that FIFO is removed and ``<channel>_1`` appears,
ready for the next epoch, and so on until the algorithm exits. ``<channel>_0`` exists before the
algorithm starts; later FIFOs appear only after the previous one is done, so algorithms poll for them.

:class:`PipeChannels` is the agent's side: ``route`` says where a channel is staged (and stages a Pipe
channel in File mode), ``start`` and ``stop`` run the feeders around the algorithm's process.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PIPE = "Pipe"
_CHUNK = 1 << 20
_POLL_SECONDS = 0.02


def channel_mode(channel: Mapping[str, Any], training_input_mode: str | None) -> str:
    """The channel's InputMode, else the job's TrainingInputMode, else File."""
    return str(channel.get("InputMode") or training_input_mode or "File")


def staged_files(directory: Path) -> list[Path]:
    """Every staged object under ``directory``, in key (path) order."""
    return sorted(path for path in directory.rglob("*") if path.is_file())


class PipeFeeder:
    """Feeds one channel's files into ``<data_dir>/<channel>_<epoch>`` FIFOs, epoch after epoch."""

    def __init__(self, name: str, source: Path, data_dir: Path) -> None:
        self.name, self.source, self.data_dir = name, source, data_dir
        self.epochs_fed = 0  # FIFOs fully written or closed early by the reader
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._files: list[Path] = []

    def fifo(self, epoch: int) -> Path:
        return self.data_dir / f"{self.name}_{epoch}"

    def start(self) -> None:
        """Create ``<channel>_0`` now (so it exists when the algorithm starts) and feed in a thread."""
        self._files = staged_files(self.source)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.mkfifo(self.fifo(0))
        self._thread = threading.Thread(target=self._run, name=f"pipe-{self.name}", daemon=True)
        self._thread.start()

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
        """Write every file; a reader that closes early (EPIPE) just ends this epoch."""
        try:
            for path in self._files:
                with path.open("rb", buffering=0) as handle:
                    while chunk := handle.read(_CHUNK):
                        view = memoryview(chunk)
                        while view:
                            view = view[os.write(fd, view) :]
        except BrokenPipeError:
            pass


class PipeChannels:
    """The Pipe-mode channels of one host: staged under ``staging_root``, fed into ``data_dir``."""

    def __init__(self, staging_root: Path, data_dir: Path) -> None:
        self.staging_root, self.data_dir = staging_root, data_dir
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
        self.feeders.append(PipeFeeder(name, source, self.data_dir))
        return {**channel, "InputMode": "File"}, source

    def start(self) -> None:
        for feeder in self.feeders:
            feeder.start()

    def stop(self) -> None:
        for feeder in self.feeders:
            feeder.stop()
