"""Managed spot script jobs through the whole machinery: notices, restarts, checkpoint resume, MaxWait."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jobs_helpers import script_job
from trainplane import TrainPlane

pytestmark = pytest.mark.slow

# Plain Python (importing trainplane costs seconds on a busy machine); the checkpoints helper has its
# own test. Saves step-NNN atomically, prints the trainplane-step lines step schedules count.
STEPPING = """
    import glob, json, os, time
    folder = json.load(open("/opt/ml/input/config/checkpointconfig.json"))["LocalPath"]
    done = sorted(glob.glob(os.path.join(folder, "step-[0-9][0-9][0-9]")))
    start = int(done[-1][-3:]) if done else 0
    print(f"resumed-from {start}", flush=True)
    for step in range(start + 1, 7):
        time.sleep(0.3)
        path = os.path.join(folder, f"step-{step:03d}")
        with open(path + ".sagemaker-ignore", "w") as f:
            f.write(str(step))
        os.replace(path + ".sagemaker-ignore", path)
        print(f"trainplane-step: {step}", flush=True)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "done"), "w") as f:
        f.write(str(step))
"""


def spot_request(name: str, tmp_path: Path, source: Any, code: str = STEPPING, **overrides: Any) -> dict:
    request = script_job(
        name,
        tmp_path,
        code,
        EnableManagedSpotTraining=True,
        StoppingCondition={"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 900},
        CheckpointConfig={"S3Uri": f"s3://checkpoints/{name}"},
        Environment={"TRAINPLANE_SPOT_INTERRUPTIONS": json.dumps(source)},
    )
    request.update(overrides)
    return request


def statuses(description: dict) -> list[str]:
    return [t["Status"] for t in description["SecondaryStatusTransitions"]]


def test_step_interruptions_restart_the_job_which_resumes_from_its_checkpoints(
    tp: TrainPlane, tmp_path: Path
) -> None:
    source = {"type": "schedule", "at_steps": [2, 4]}
    tp.create_training_job(**spot_request("spot-steps", tmp_path, source))
    description = tp.wait_for_training_job("spot-steps", timeout=120)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    attempt = ["Starting", "Downloading", "Training"]
    assert statuses(description) == [
        *attempt,
        "Interrupted",
        *attempt,
        "Interrupted",
        *attempt,
        "Uploading",
        "Completed",
    ]
    messages = [t["StatusMessage"] for t in description["SecondaryStatusTransitions"]]
    assert "Spot capacity interrupted (at step 2)" in messages[3]
    assert messages[4] == "Spot capacity is back: restarting the job"
    resumed = [e.message for e in tp.log_events("spot-steps") if e.message.startswith("resumed-from")]
    first, second, third = (int(m.split()[1]) for m in resumed)
    assert first == 0 and 2 <= second < 4 and 4 <= third < 6  # never from scratch
    attempts = tp.platform.store.attempts("spot-steps")
    assert [a.status for a in attempts] == ["interrupted", "interrupted", "succeeded"]
    assert all(a.spot for a in attempts)
    assert description["BillableTimeInSeconds"] < description["TrainingTimeInSeconds"]
    synced = sorted(p.name for p in (Path(tp.settings.home) / "s3" / "checkpoints" / "spot-steps").iterdir())
    assert synced == [f"step-{i:03d}" for i in range(1, 7)]


def test_a_failing_checkpoint_sync_shows_in_the_logs_and_the_status_messages(
    tp: TrainPlane, tmp_path: Path
) -> None:
    # No bucket "missing": every upload fails, is retried, and is reported instead of dropped.
    request = spot_request("sync-fails", tmp_path, "none", CheckpointConfig={"S3Uri": "s3://missing/ck"})
    tp.create_training_job(**request)
    description = tp.wait_for_training_job("sync-fails", timeout=120)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert any(
        e.message.startswith("Checkpoint sync failed: upload of step-001")
        for e in tp.log_events("sync-fails")
    )
    final = description["SecondaryStatusTransitions"][-1]["StatusMessage"]
    assert final.startswith("Training job completed (checkpoint sync failing: upload of step-")
