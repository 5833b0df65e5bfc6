"""Checkpoint helpers for training scripts (script mode, or any program run by trainplane's Python).

    from trainplane import checkpoints

    ckpt_dir = checkpoints.directory()                      # LocalPath of the job's CheckpointConfig
    newest = checkpoints.latest(ckpt_dir, "model-*.pt")     # None on a fresh start
    start = checkpoints.step_of(newest) + 1 if newest else 0
    checkpoints.on_notice(lambda: save(step))               # SIGTERM: spot notice or StopTrainingJob
    for step in range(start, steps):
        ...
        checkpoints.save_atomic(ckpt_dir / f"model-{step}.pt", payload_bytes)
        checkpoints.report_step(step + 1)                   # progress for step-based spot schedules

Writes go to ``<name>.sagemaker-ignore`` first (the checkpoint sync never uploads those), are fsynced
and renamed, so the uploader and a resumed job only ever see whole files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from trainplane.runtime.paths import MLPaths

IGNORE_SUFFIX = ".sagemaker-ignore"
DEFAULT_LOCAL_PATH = "/opt/ml/checkpoints"
_LAST_NUMBER = re.compile(r"(\d+)(?!.*\d)")

__all__ = ["directory", "latest", "on_notice", "report_step", "save_atomic", "step_of"]


def directory(environ: Mapping[str, str] | None = None) -> Path:
    """The checkpoint directory as this process sees it (``/opt/ml/checkpoints`` by default)."""
    paths = MLPaths.from_environ(os.environ if environ is None else environ)
    local = DEFAULT_LOCAL_PATH
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
        local = json.loads(paths.checkpointconfig_file.read_text()).get("LocalPath") or local
    return paths.resolve(local)


def save_atomic(path: str | Path, data: bytes | Callable[[BinaryIO], object]) -> Path:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + IGNORE_SUFFIX)
    with open(temp, "wb") as handle:
        if isinstance(data, bytes | bytearray | memoryview):
            handle.write(data)
        else:
            data(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return path


def step_of(path: str | Path) -> int:
    """The last number in a checkpoint's file name (``model-0042.pt`` -> 42); -1 without one."""
    match = _LAST_NUMBER.search(Path(path).name)
    return int(match.group(1)) if match else -1


def latest(dir_path: str | Path, pattern: str = "*") -> Path | None:
    """The newest checkpoint matching ``pattern``: highest number in its name, then newest mtime.

    Temporary files and the sync's bookkeeping markers never count.
    """
    folder = Path(dir_path)
    if not folder.is_dir():
        return None
    candidates = [
        p
        for p in folder.glob(pattern)
        if p.is_file() and not p.name.endswith((IGNORE_SUFFIX, ".sagemaker-uploading", ".sagemaker-uploaded"))
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda p: (step_of(p), p.stat().st_mtime_ns))


def on_notice(callback: Callable[[], object], *, exit_code: int | None = 143) -> None:
    """Run ``callback`` (e.g. save a checkpoint) when SIGTERM arrives, then exit with ``exit_code``.

    SIGTERM is both the spot interruption notice and StopTrainingJob's signal; the grace period
    before the kill is 120 s unless the platform is configured otherwise. ``exit_code=None`` returns
    to the interrupted code instead of exiting (the callback must then end training itself).
    """

    def handle(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one notice, one save
        callback()
        if exit_code is not None:
            sys.stdout.flush()
            os._exit(exit_code)

    signal.signal(signal.SIGTERM, handle)


def report_step(step: int) -> None:
    """Tell the platform how many steps are done (read by step-based interruption schedules)."""
    print(f"trainplane-step: {int(step)}", flush=True)
