"""DeleteTrainingJob frees the name: a new job of that name sees nothing of the deleted one's run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs_helpers import script_job
from trainplane import TrainPlane

pytestmark = pytest.mark.slow

VERSIONED = """
    import os
    print("CODE {version}", flush=True)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
        f.write("{version}")
"""


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    with TrainPlane(environ={"TRAINPLANE_HOME": str(tmp_path / "home")}) as client:
        yield client


def run_version(tp: TrainPlane, tmp_path: Path, version: str) -> dict[str, object]:
    code = VERSIONED.format(version=version)
    tp.create_training_job(**script_job("reused", tmp_path / version, code))
    description = tp.wait_for_training_job("reused", timeout=120)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    return description


def code_lines(tp: TrainPlane) -> list[str]:
    return [e.message for e in tp.log_events("reused") if e.message.startswith("CODE")]


def test_a_deleted_jobs_files_go_and_a_new_job_of_its_name_runs_its_own_code(
    tp: TrainPlane, tmp_path: Path
) -> None:
    run_version(tp, tmp_path, "v1")
    job_dir = tp.settings.jobs_root / "reused"
    assert (job_dir / "1").is_dir()
    tp.delete_training_job(TrainingJobName="reused")
    assert not job_dir.exists()
    assert list(tp.settings.jobs_root.iterdir()) == []
    # The object store's copy is the user's: SageMaker keeps it after a delete.
    assert (tmp_path / "v1" / "output" / "reused" / "output" / "model.tar.gz").exists()

    run_version(tp, tmp_path, "v2")
    assert code_lines(tp) == ["CODE v2"]


def test_a_delete_interrupted_before_removing_the_files_does_not_leak_into_the_new_job(
    tp: TrainPlane, tmp_path: Path
) -> None:
    run_version(tp, tmp_path, "v1")
    tp._platform.store.delete_training_job("reused")  # the rows went; the control plane died then
    assert (tp.settings.jobs_root / "reused" / "1" / "algo-1" / "code" / "train.py").exists()

    description = run_version(tp, tmp_path, "v2")
    assert code_lines(tp) == ["CODE v2"]
    assert description["TrainingTimeInSeconds"] < 60  # no start time taken from the old events
    code = tp.settings.jobs_root / "reused" / "1" / "algo-1" / "code" / "train.py"
    assert "CODE v2" in code.read_text()
