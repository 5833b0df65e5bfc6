"""Finishing a job when something goes wrong meanwhile: the store failing mid-way (the job is finished
again, not left InProgress), a stop arriving during the upload (the job ends Stopped, model uploaded),
and where the upload's temporary files live (inside the home, never left behind)."""

from __future__ import annotations

import itertools
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobs_helpers import script_job
from trainplane import TrainPlane
from trainplane.control import finishing
from trainplane.runtime import packaging

pytestmark = pytest.mark.slow
CODE = 'open("/opt/ml/model/weights.bin", "wb").write(b"w" * 1000)'


def test_a_finish_that_fails_is_retried_until_the_job_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real: Callable[..., None] = finishing.finish
    calls = itertools.count()

    def store_down_once(*args: Any, **kwargs: Any) -> None:
        if next(calls) == 0:
            raise ConnectionError("the database went away")  # as an OperationalError would
        real(*args, **kwargs)

    monkeypatch.setattr(finishing, "finish", store_down_once)
    with TrainPlane(home=tmp_path / "home") as tp:
        tp.create_training_job(**script_job("retry-finish", tmp_path, CODE))
        description = tp.wait_for_training_job("retry-finish", timeout=60)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert next(calls) == 2  # failed once, then finished


def test_a_stop_during_the_upload_ends_the_job_stopped_with_its_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = finishing._upload_hosts
    written: list[Path] = []
    real_write = packaging.write_tar

    def recording_write(dirs: Any, dest: Path, **kwargs: Any) -> int:
        written.append(dest)
        return real_write(dirs, dest, **kwargs)

    monkeypatch.setattr(packaging, "write_tar", recording_write)
    with TrainPlane(home=tmp_path / "home") as tp:

        def stopped_meanwhile(settings: Any, job: Any, hosts: list[dict[str, Any]]) -> None:
            tp.stop_training_job(TrainingJobName=job.name)  # accepted: the job is still InProgress
            real(settings, job, hosts)

        monkeypatch.setattr(finishing, "_upload_hosts", stopped_meanwhile)
        tp.create_training_job(**script_job("stop-upload", tmp_path, CODE))
        description = tp.wait_for_training_job("stop-upload", timeout=60)
    assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == ("Stopped", "Stopped")
    transitions = description["SecondaryStatusTransitions"]
    assert [t["Status"] for t in transitions][-3:] == ["Uploading", "Stopping", "Stopped"]
    for earlier, later in itertools.pairwise(transitions):
        assert earlier["StartTime"] <= earlier["EndTime"] == later["StartTime"]
    with tarfile.open(tmp_path / "output" / "stop-upload" / "output" / "model.tar.gz") as archive:
        assert archive.getnames() == ["weights.bin"]
    jobs = tmp_path / "home" / "jobs"
    assert written and all(jobs in path.parents for path in written)  # never in /tmp
    assert not any(path.exists() for path in written)
