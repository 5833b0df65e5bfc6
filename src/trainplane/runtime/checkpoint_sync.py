"""Checkpoint sync (spec §10.3): CheckpointConfig.S3Uri <-> LocalPath on every host of every attempt.

* :func:`restore`, before the algorithm starts: every object under the S3 prefix is copied to the
  local directory (objects added later are not pulled).
* :class:`CheckpointSync`, while it runs: a background thread polls the directory (size and mtime)
  and uploads new and changed files, uncompressed, under the same relative paths; a file deleted
  locally is deleted in S3. While a file uploads, ``<f>.sagemaker-uploading`` exists next to it;
  once its upload is verified (size, and the MD5 ETag where the store gives a single-part one) the
  marker is replaced by ``<f>.sagemaker-uploaded``. Files ending ``.sagemaker-ignore`` (temporary
  files to be renamed) and the markers themselves are never uploaded.
* Every upload is retried; a file that still fails is reported through ``on_failure`` (the agent
  writes a log line and a ``CheckpointSyncFailed`` event, which the control plane puts into the job's
  status messages) and retried on the next poll: never dropped silently.
* :meth:`CheckpointSync.close` stops the thread after one final pass (the flush inside the grace
  period after SIGTERM, or at exit); :meth:`CheckpointSync.wake` asks for a pass now.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainplane.storage.base import ObjectNotFound, md5_file

UPLOADING = ".sagemaker-uploading"
UPLOADED = ".sagemaker-uploaded"
IGNORE = ".sagemaker-ignore"
POLL_SECONDS = 0.5
RETRIES = 3
_RETRY_PAUSE = 0.2


def _prefix(s3_uri: str) -> str:
    return s3_uri.rstrip("/") + "/"


def is_synced_name(name: str) -> bool:
    return not name.endswith((UPLOADING, UPLOADED, IGNORE))


def _retry(action: Callable[[], Any], retries: int = RETRIES) -> Any:
    for attempt in range(retries):
        try:
            return action()
        except Exception:
            if attempt == retries - 1:
                raise
            time.sleep(_RETRY_PAUSE * (attempt + 1))
    return None


def restore(storage: Any, s3_uri: str, local_dir: Path) -> list[str]:
    """Copy every checkpoint object under ``s3_uri`` into ``local_dir``; the relative paths copied."""
    local_dir.mkdir(parents=True, exist_ok=True)
    prefix = _prefix(s3_uri)
    try:
        objects = _retry(lambda: storage.list_objects(prefix))
    except ObjectNotFound:
        return []  # no bucket yet: nothing to resume from
    copied = []
    for info in objects:
        relative = info.uri[len(prefix) :]
        if not relative or not is_synced_name(relative):
            continue
        _retry(functools.partial(storage.download_file, info.uri, local_dir / relative))
        copied.append(relative)
    return copied


class CheckpointSync:
    def __init__(
        self,
        storage: Any,
        local_dir: Path,
        s3_uri: str,
        *,
        on_failure: Callable[[str], None],
        poll_seconds: float = POLL_SECONDS,
        retries: int = RETRIES,
    ) -> None:
        self.storage, self.local_dir, self.prefix = storage, local_dir, _prefix(s3_uri)
        self.on_failure, self.poll_seconds, self.retries = on_failure, poll_seconds, retries
        self._synced: dict[str, tuple[int, int]] = {}  # relative path -> (mtime_ns, size) uploaded
        self._failing: set[str] = set()
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.uploads = 0

    def adopt_restored(self, relatives: list[str]) -> None:
        """Files just restored from S3 are in sync already: do not upload them again."""
        for relative in relatives:
            with contextlib.suppress(FileNotFoundError):
                stat = (self.local_dir / relative).stat()
                self._synced[relative] = (stat.st_mtime_ns, stat.st_size)

    def start(self) -> CheckpointSync:
        self._thread = threading.Thread(target=self._loop, name="checkpoint-sync", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        """Stop polling after one final pass over the directory."""
        self._halt.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.sync_once()

    def _loop(self) -> None:
        while not self._halt.is_set():
            self.sync_once()
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def sync_once(self) -> None:
        with self._lock:
            present = self._scan()
            for relative, signature in sorted(present.items()):
                if self._synced.get(relative) != signature:
                    self._upload(relative, signature)
            for relative in sorted(set(self._synced) - set(present)):
                self._delete(relative)

    def _scan(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for dirpath, _dirs, names in os.walk(self.local_dir):
            for name in names:
                if not is_synced_name(name):
                    continue
                path = Path(dirpath, name)
                with contextlib.suppress(FileNotFoundError):
                    stat = path.stat()
                    if path.is_file():
                        found[path.relative_to(self.local_dir).as_posix()] = (stat.st_mtime_ns, stat.st_size)
        return found

    def _upload(self, relative: str, signature: tuple[int, int]) -> None:
        path = self.local_dir / relative
        uploading, uploaded = _marker(path, UPLOADING), _marker(path, UPLOADED)
        uploaded.unlink(missing_ok=True)
        uploading.touch()
        try:
            signature = _retry(lambda: self._upload_verified(path, relative), self.retries)
        except FileNotFoundError:
            uploading.unlink(missing_ok=True)  # deleted meanwhile: the next pass propagates it
            return
        except Exception as exc:
            self._report(relative, f"upload of {relative} to {self.prefix}{relative} failed: {exc}")
            return
        self._synced[relative] = signature
        self._failing.discard(relative)
        self.uploads += 1
        uploaded.touch()
        uploading.unlink(missing_ok=True)

    def _upload_verified(self, path: Path, relative: str) -> tuple[int, int]:
        """Upload once and check what arrived; the (mtime_ns, size) that was uploaded."""
        before = path.stat()
        info = self.storage.upload_file(path, self.prefix + relative)
        after = path.stat()
        if (before.st_mtime_ns, before.st_size) != (after.st_mtime_ns, after.st_size):
            raise OSError("the file changed while it was uploading")
        if info.size != after.st_size:
            raise OSError(f"uploaded {info.size} bytes, the file has {after.st_size}")
        etag = info.etag
        if etag and "-" not in etag and etag != md5_file(path):
            raise OSError(f"ETag {etag} does not match the file's MD5")
        return after.st_mtime_ns, after.st_size

    def _delete(self, relative: str) -> None:
        try:
            _retry(lambda: self.storage.delete(self.prefix + relative), self.retries)
        except Exception as exc:
            self._report(relative, f"deleting {self.prefix}{relative} failed: {exc}")
            return
        self._synced.pop(relative, None)
        path = self.local_dir / relative
        _marker(path, UPLOADED).unlink(missing_ok=True)
        _marker(path, UPLOADING).unlink(missing_ok=True)

    def _report(self, relative: str, message: str) -> None:
        if relative not in self._failing:  # once per failing streak, not every poll
            self._failing.add(relative)
            self.on_failure(message)

    @property
    def failing(self) -> bool:
        return bool(self._failing)


def start_for_host(
    checkpoint_config: dict[str, str] | None,
    resolve: Callable[[str], Path],
    storage: Any,
    on_failure: Callable[[str], None],
    log: Callable[[str], None],
) -> CheckpointSync | None:
    """Restore the checkpoints of a job with a CheckpointConfig and start syncing; None without one.

    Restoring failed after retries -> a ``ClientError`` the agent fails the attempt with.
    """
    if not checkpoint_config:
        return None
    s3_uri, local_dir = checkpoint_config["S3Uri"], resolve(checkpoint_config["LocalPath"])
    try:
        restored = restore(storage, s3_uri, local_dir)
    except Exception as exc:
        raise RuntimeError(f"ClientError: Could not restore checkpoints from {s3_uri}: {exc}") from exc
    if restored:
        log(f"Restored {len(restored)} checkpoint file(s) from {s3_uri}")
    sync = CheckpointSync(storage, local_dir, s3_uri, on_failure=on_failure)
    sync.adopt_restored(restored)
    return sync.start()


def _marker(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)
