"""Absolute paths outside /opt/ml that a job uses (a checkpoint LocalPath) get a private directory in the
job root, mounted at the path by the /opt/ml sandbox; without a sandbox a script or command is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainplane.runtime import program
from trainplane.runtime.paths import MLPaths
from trainplane.runtime.program import ProgramError, resolve_program

SCRIPT = {"sagemaker_program": '"train.py"'}
SPEC = {"TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"}


def _no_fetch(uri: str, dest: Path) -> None:
    raise AssertionError("nothing to fetch")


def test_paths_outside_opt_ml_resolve_into_the_root_and_opt_ml_paths_keep_their_place(tmp_path: Path) -> None:
    paths = MLPaths(tmp_path)
    assert paths.resolve("/opt/ml/checkpoints") == tmp_path / "checkpoints"
    assert paths.resolve("/tmp/ckpt") == tmp_path / "local-paths" / "tmp" / "ckpt"
    assert paths.resolve("relative/ckpt") == Path("relative/ckpt")


def test_the_sandbox_mounts_the_private_copy_at_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(program, "_sandbox_unavailable_reason", lambda: None)
    paths = MLPaths(tmp_path).create()
    resolved = resolve_program(
        SPEC, SCRIPT, paths, _no_fetch, private_paths=["/tmp/ckpt", "/opt/ml/checkpoints"]
    )
    private = tmp_path / "local-paths" / "tmp" / "ckpt"
    assert private.is_dir()
    binds = [resolved.argv[i + 1 : i + 3] for i, arg in enumerate(resolved.argv) if arg == "--bind"]
    assert [str(private.resolve()), "/tmp/ckpt"] in binds
    assert not any(target == "/opt/ml/checkpoints" for _, target in binds)  # /opt/ml is mounted whole


def test_without_a_sandbox_a_script_with_such_a_path_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(program, "_sandbox_unavailable_reason", lambda: "bubblewrap is not installed")
    paths = MLPaths(tmp_path).create()
    with pytest.raises(ProgramError, match="LocalPath /tmp/ckpt is outside /opt/ml"):
        resolve_program(SPEC, SCRIPT, paths, _no_fetch, private_paths=["/tmp/ckpt"])
    assert (
        resolve_program(SPEC, SCRIPT, paths, _no_fetch, private_paths=["/opt/ml/checkpoints"]).kind
        == "script"
    )
