"""The platform's own files of a job: ``<jobs>/<job>/<attempt>/`` (host roots and agent files).

They are platform-internal state, like the job's rows in the store: DeleteTrainingJob removes them, so a
new job of the same name (names become reusable) starts from nothing. What the job wrote to the object
store (model.tar.gz, output.tar.gz, checkpoints) is the user's and stays, as in SageMaker.

A directory is first renamed aside (``<jobs>/.deleted-*``: no job name starts with a dot), then removed:
a new job of the same name never sees a half-removed tree. What a crash leaves behind is either the
whole job directory, whose attempt directories a new job's launches clear before using them
(``clear_stale_attempt``), or a ``.deleted-*`` remnant, which the next delete removes.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

_DELETED_PREFIX = ".deleted-"


def remove_job_files(jobs_root: Path, job_name: str) -> None:
    """Remove a deleted job's directory, and what earlier interrupted removals left."""
    _remove(jobs_root / job_name, jobs_root)
    for remnant in jobs_root.glob(_DELETED_PREFIX + "*"):
        shutil.rmtree(remnant, ignore_errors=True)


def clear_stale_attempt(attempt_dir: Path, jobs_root: Path) -> None:
    """Remove the directory of an attempt that is about to start, if it exists: the store has no such
    attempt, so it is a deleted job's of the same name (a delete interrupted before it removed its
    files). Its code, logs and events would otherwise become the new attempt's."""
    if attempt_dir.exists():
        _remove(attempt_dir, jobs_root)


def _remove(directory: Path, jobs_root: Path) -> None:
    aside = jobs_root / f"{_DELETED_PREFIX}{directory.name}-{uuid.uuid4().hex[:12]}"
    try:
        directory.rename(aside)
    except FileNotFoundError:
        return  # nothing there (never launched), or removed meanwhile by another process
    shutil.rmtree(aside, ignore_errors=True)
