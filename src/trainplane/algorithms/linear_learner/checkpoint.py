"""Per-epoch checkpoints: one dict of tensors per file, written atomically, newest few kept.

Write ``<name>.sagemaker-ignore`` (never uploaded by the checkpoint sync), fsync, rename, fsync the
directory. A file the platform is still uploading (``.sagemaker-uploading`` without ``.sagemaker-uploaded``)
is not deleted yet. Files are named per host, since all hosts share one S3 prefix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

KEEP = 3


def _name(host: str, epoch: int) -> str:
    return f"linear-learner-{host}-epoch-{epoch:05d}.pt"


def _existing(directory: Path, host: str) -> list[tuple[int, Path]]:
    pattern = re.compile(rf"linear-learner-{re.escape(host)}-epoch-(\d+)\.pt")
    found = []
    if directory.is_dir():
        for path in directory.iterdir():
            match = pattern.fullmatch(path.name)
            if match:
                found.append((int(match.group(1)), path))
    return sorted(found)


def save(directory: Path, host: str, epoch: int, state: dict[str, Any], keep: int = KEEP) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / _name(host, epoch)
    temp = final.with_name(final.name + ".sagemaker-ignore")
    with open(temp, "wb") as out:
        torch.save(state, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, final)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    for _, old in _existing(directory, host)[:-keep]:
        uploading = old.with_name(old.name + ".sagemaker-uploading")
        uploaded = old.with_name(old.name + ".sagemaker-uploaded")
        if uploading.exists() and not uploaded.exists():
            continue  # still being synced; a later save will remove it
        old.unlink(missing_ok=True)
    return final


def load_latest(directory: Path, host: str) -> dict[str, Any] | None:
    """The newest readable checkpoint of this host (an unreadable newest one falls back to the previous)."""
    for _, path in reversed(_existing(directory, host)):
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a torn or foreign file: say so and try the next older one
            print(f"Ignoring unreadable checkpoint {path}: {exc}", flush=True)
    return None
