"""A script job's log says when its framework image names a version this machine's Python lacks."""

from __future__ import annotations

from pathlib import Path

import sklearn

from jobs_helpers import SKLEARN_IMAGE, script_job
from trainplane import TrainPlane
from trainplane.runtime.frameworks import mismatch_note, requested


def test_framework_images_name_a_distribution_and_a_major_minor() -> None:
    assert requested("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1.0-cpu-py310") == (
        "torch",
        "2.1",
    )
    assert requested(SKLEARN_IMAGE) == ("scikit-learn", "1.2")
    assert requested("123.dkr.ecr.us-east-1.amazonaws.com/my-own:latest") is None
    assert requested("x/pytorch-training") is None  # no tag, no version


def test_the_note_names_what_runs_instead_unless_requirements_bring_it() -> None:
    note = mismatch_note(SKLEARN_IMAGE)
    assert note is not None and f"has scikit-learn {sklearn.__version__}" in note
    assert mismatch_note(SKLEARN_IMAGE, "numpy\nscikit-learn==1.2.2\n") is None
    major_minor = ".".join(sklearn.__version__.split(".")[:2])
    assert mismatch_note(f"x/sagemaker-scikit-learn:{major_minor}-1-cpu-py3") is None
    missing = mismatch_note("x/tensorflow-training:2.13-cpu-py310")
    assert missing is not None and missing.endswith("has no tensorflow")


def test_a_script_job_logs_the_note(tmp_path: Path) -> None:
    with TrainPlane(environ={"TRAINPLANE_HOME": str(tmp_path / "home")}) as tp:
        tp.create_training_job(**script_job("versions", tmp_path, "print('trained')"))
        description = tp.wait_for_training_job("versions", timeout=120)
        messages = [e.message for e in tp.log_events("versions")]
    assert description["TrainingJobStatus"] == "Completed"
    assert mismatch_note(SKLEARN_IMAGE) in messages
