"""File-mode input must fit the training volume (ResourceConfig.VolumeSizeInGB), as on SageMaker."""

from __future__ import annotations

import json
import time
from pathlib import Path

from jobs_helpers import channel, script_job
from trainplane import TrainPlane
from trainplane.control import plans
from trainplane.executors.local import LocalExecutor

CODE = """
    print("trained", flush=True)
"""


def run_agent(tp: TrainPlane, name: str, attempt: int, volume_gb: float | None) -> dict:
    """The host's result when the job's plan runs with ``volume_gb`` (a stand-in for a small volume)."""
    job = tp._platform.store.get_training_job(name)
    assert job is not None
    launch = plans.attempt_plan(job, attempt, tp.settings, 2)[0]
    launch.spec["volume_gb"] = volume_gb
    record = LocalExecutor(warm_spare=False).launch([launch])[0]
    result = Path(record["agent_dir"]) / "result.json"
    deadline = time.monotonic() + 120
    while not result.exists():
        assert time.monotonic() < deadline, "the agent never finished"
        time.sleep(0.1)
    return json.loads(result.read_text())


def test_input_larger_than_the_volume_fails_the_job_and_a_pipe_channel_does_not_count(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_bytes(b"1,2\n" * 2048)  # 8 KiB
    request = script_job(
        "volume",
        tmp_path,
        CODE,
        InputDataConfig=[
            channel("train", f"file://{data}/"),
            {**channel("stream", f"file://{data}/"), "InputMode": "Pipe"},
        ],
    )
    # No control plane: the job stays queued, and the test runs its host itself.
    with TrainPlane(environ={"TRAINPLANE_HOME": str(tmp_path / "home")}, run_jobs=False) as tp:
        tp.create_training_job(**request)
        too_small = run_agent(tp, "volume", 1, 4096 / 2**30)
        roomy = run_agent(tp, "volume", 2, 12288 / 2**30)  # the 8 KiB File channel; the Pipe one is not on it
        unlimited = run_agent(tp, "volume", 3, None)  # an instance-store type
    assert too_small["exit_code"] != 0
    assert too_small["failure_reason"].startswith("ClientError: Data download failed: the File-mode input")
    assert "request a larger ResourceConfig.VolumeSizeInGB" in too_small["failure_reason"]
    assert roomy["exit_code"] == 0, roomy
    assert unlimited["exit_code"] == 0, unlimited


def test_instance_store_types_have_no_volume_limit() -> None:
    assert plans.instances.has_instance_store("ml.g4dn.xlarge")
    assert plans.instances.has_instance_store("ml.p4d.24xlarge")
    assert not plans.instances.has_instance_store("ml.m5.large")
