"""Checkpoint sync (§10.3) against the local S3 store: restore, markers, ignore, deletes, failures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from trainplane import checkpoints
from trainplane.runtime.checkpoint_sync import CheckpointSync, restore, start_for_host
from trainplane.storage import open_storage

URI = "s3://bucket/ckpt"


@pytest.fixture
def storage(tmp_path: Path) -> Any:
    (tmp_path / "s3" / "bucket").mkdir(parents=True)
    return open_storage(tmp_path / "s3")


def remote(tmp_path: Path) -> list[str]:
    folder = tmp_path / "s3" / "bucket" / "ckpt"
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_new_and_changed_files_are_uploaded_with_markers_and_ignored_files_are_not(
    storage: Any, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    local.mkdir()
    sync = CheckpointSync(storage, local, URI, on_failure=pytest.fail)
    (local / "a.bin").write_bytes(b"one")
    (local / "sub").mkdir()
    (local / "sub" / "b.bin").write_bytes(b"two")
    (local / "c.tmp.sagemaker-ignore").write_bytes(b"temp")
    sync.sync_once()
    assert remote(tmp_path) == ["a.bin", "sub/b.bin"]
    assert (local / "a.bin.sagemaker-uploaded").exists()
    assert not (local / "a.bin.sagemaker-uploading").exists()
    (local / "a.bin").write_bytes(b"one, changed")
    os.utime(local / "a.bin", ns=(1, 10**18))
    sync.sync_once()
    assert (tmp_path / "s3" / "bucket" / "ckpt" / "a.bin").read_bytes() == b"one, changed"
    assert sync.uploads == 3


def test_local_deletions_are_propagated(storage: Any, tmp_path: Path) -> None:
    local = tmp_path / "local"
    local.mkdir()
    sync = CheckpointSync(storage, local, URI, on_failure=pytest.fail)
    (local / "old").write_bytes(b"x")
    sync.sync_once()
    (local / "old").unlink()
    sync.sync_once()
    assert remote(tmp_path) == []
    assert not (local / "old.sagemaker-uploaded").exists()


def test_restore_copies_every_object_before_the_algorithm_starts(storage: Any, tmp_path: Path) -> None:
    storage.write_bytes(b"7", f"{URI}/model-7")
    storage.write_bytes(b"8", f"{URI}/nested/model-8")
    local = tmp_path / "fresh"
    assert sorted(restore(storage, URI, local)) == ["model-7", "nested/model-8"]
    assert (local / "nested" / "model-8").read_bytes() == b"8"
    events: list[str] = []
    sync = start_for_host(
        {"S3Uri": URI, "LocalPath": str(local)}, Path, storage, events.append, events.append
    )
    assert sync is not None
    sync.close()
    assert sync.uploads == 0  # restored files are not uploaded again
    assert events == ["Restored 2 checkpoint file(s) from s3://bucket/ckpt"]


def test_a_failing_upload_is_retried_and_reported_once_per_streak(tmp_path: Path) -> None:
    class Broken:
        calls = 0

        def upload_file(self, src: Path, uri: str) -> Any:
            Broken.calls += 1
            raise OSError("endpoint unreachable")

    local = tmp_path / "local"
    local.mkdir()
    (local / "model").write_bytes(b"x")
    failures: list[str] = []
    sync = CheckpointSync(Broken(), local, URI, on_failure=failures.append, retries=2)
    sync.sync_once()
    sync.sync_once()
    assert Broken.calls == 4
    assert len(failures) == 1 and "endpoint unreachable" in failures[0]
    assert sync.failing
    assert (local / "model.sagemaker-uploading").exists()  # never marked uploaded


def test_the_background_thread_uploads_and_close_flushes(storage: Any, tmp_path: Path) -> None:
    local = tmp_path / "local"
    local.mkdir()
    sync = CheckpointSync(storage, local, URI, on_failure=pytest.fail, poll_seconds=0.05).start()
    checkpoints.save_atomic(local / "step-1", b"1")
    checkpoints.save_atomic(local / "step-2", lambda f: f.write(b"2"))
    sync.close()
    assert remote(tmp_path) == ["step-1", "step-2"]


def test_checkpoints_helper_finds_the_newest_checkpoint(tmp_path: Path) -> None:
    for step in (2, 10, 9):
        checkpoints.save_atomic(tmp_path / f"model-{step}.pt", b"x")
    (tmp_path / "model-11.pt.sagemaker-ignore").write_bytes(b"partial")
    (tmp_path / "model-10.pt.sagemaker-uploaded").touch()
    newest = checkpoints.latest(tmp_path, "model-*")
    assert newest == tmp_path / "model-10.pt"
    assert checkpoints.step_of(newest) == 10
    assert checkpoints.latest(tmp_path / "missing") is None
    root = tmp_path / "root"
    (root / "input" / "config").mkdir(parents=True)
    (root / "input" / "config" / "checkpointconfig.json").write_text('{"LocalPath": "/opt/ml/ck"}')
    assert checkpoints.directory({"TRAINPLANE_ML_ROOT": str(root)}) == root / "ck"
