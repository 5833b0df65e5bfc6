"""A CheckpointConfig.LocalPath outside /opt/ml (the SDK's ``checkpoint_local_path="/tmp/ckpt"``) is the
job's own directory, as inside a container: not a directory of this machine that every job shares."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from jobs_helpers import script_job
from trainplane import TrainPlane

pytestmark = pytest.mark.slow


def test_a_local_path_outside_opt_ml_is_private_to_each_job(tmp_path: Path) -> None:
    local = f"/tmp/trainplane-test-ckpt-{uuid.uuid4().hex[:8]}"
    code = f"""
        import os, sys
        local = {local!r}
        print("found", sorted(os.listdir(local)), flush=True)
        for step in sys.argv[2].split(","):
            with open(os.path.join(local, "step-" + step), "w") as handle:
                handle.write(step)
    """
    try:
        with TrainPlane(home=tmp_path / "home") as tp:
            for name, steps in (("first", "0,1,2"), ("second", "9")):
                request = script_job(name, tmp_path, code, hyperparameters={"steps": steps})
                request["CheckpointConfig"] = {"S3Uri": f"file://{tmp_path}/ckpt/{name}", "LocalPath": local}
                tp.create_training_job(**request)
                description = tp.wait_for_training_job(name, timeout=120)
                assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
            found = {
                n: [e.message for e in tp.log_events(n) if e.message.startswith("found")]
                for n in ("first", "second")
            }
        assert found == {"first": ["found []"], "second": ["found []"]}  # the second saw none of the first's
        assert sorted(p.name for p in (tmp_path / "ckpt" / "first").iterdir()) == [
            "step-0",
            "step-1",
            "step-2",
        ]
        assert sorted(p.name for p in (tmp_path / "ckpt" / "second").iterdir()) == ["step-9"]
        assert not Path(local).exists() or not any(Path(local).iterdir())  # nothing landed on the machine
    finally:
        shutil.rmtree(local, ignore_errors=True)
