"""Built-in XGBoost at a stop or spot notice (SIGTERM): the rounds it reported are on disk.

Without ``save_model_on_termination`` the process dies at SIGTERM, as the container does; each round is
checkpointed before its metric line, so a notice sent on seeing round N finds xgboost-checkpoint.N.
With it, the round in progress is finished, checkpointed and saved: nothing trained is lost; with
several hosts, every host stops after the same round.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from jobs_helpers import channel, xgboost_job
from trainplane import TrainPlane
from trainplane.algorithms.xgboost import checkpointing, main
from trainplane.cli.spot import spot_test
from trainplane.runtime.paths import MLPaths

pytestmark = pytest.mark.slow
X, Y = load_breast_cancer(return_X_y=True)
CSV = {"ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated"}


def _layout(root: Path, hyperparameters: dict[str, str]) -> MLPaths:
    paths = MLPaths(root).create()
    train = paths.channel("train") / "train.csv"
    train.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(train, np.column_stack([Y, X]), delimiter=",", fmt="%.6g")
    paths.inputdataconfig_file.write_text(json.dumps({"train": CSV}))
    paths.hyperparameters_file.write_text(json.dumps({"objective": "binary:logistic", **hyperparameters}))
    paths.resourceconfig_file.write_text(json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}))
    config = {"LocalPath": "/opt/ml/checkpoints", "S3Uri": "s3://bucket/ckpt"}
    paths.checkpointconfig_file.write_text(json.dumps(config))
    return paths


def _parts(directory: Path, labels: np.ndarray, features: np.ndarray, parts: int) -> str:
    directory.mkdir(parents=True)
    for i, (y, x) in enumerate(
        zip(np.array_split(labels, parts), np.array_split(features, parts), strict=True)
    ):
        np.savetxt(directory / f"part-{i}.csv", np.column_stack([y, x]), delimiter=",", fmt="%.6g")
    return f"file://{directory}/"


def _start(paths: MLPaths) -> subprocess.Popen[str]:
    environ = dict(os.environ, TRAINPLANE_ML_ROOT=str(paths.root), SM_NUM_CPUS="1", SM_CURRENT_HOST="algo-1")
    return subprocess.Popen(
        [sys.executable, "-m", "trainplane.algorithms.xgboost"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _round_of(line: str) -> int:
    return int(line[1 : line.index("]")])


class _CheckingStdout(io.StringIO):
    """stdout that records, for each metric line, whether its round's checkpoint was on disk."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.saved_when_printed: list[bool] = []

    def write(self, text: str) -> int:
        if text.startswith("["):
            self.saved_when_printed.append((self.folder / f"xgboost-checkpoint.{_round_of(text)}").exists())
        return super().write(text)


def test_a_reported_round_is_already_checkpointed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _layout(tmp_path, {"num_round": "4"})
    stdout = _CheckingStdout(paths.resolve("/opt/ml/checkpoints"))
    monkeypatch.setattr(sys, "stdout", stdout)
    environ = dict(os.environ, TRAINPLANE_ML_ROOT=str(paths.root), SM_NUM_CPUS="1", SM_CURRENT_HOST="algo-1")
    assert main(environ) == 0
    assert stdout.saved_when_printed == [True] * 4


def test_without_notice_save_sigterm_ends_the_job_at_once(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "100000"})
    process = _start(paths)
    assert process.stdout is not None
    first = process.stdout.readline()
    process.send_signal(signal.SIGTERM)  # the default action, as in the container
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM
    rounds = [i for i, _ in checkpointing.list_checkpoints(paths.resolve("/opt/ml/checkpoints"))]
    assert _round_of(first) in rounds
    assert not (paths.model / "xgboost-model").exists()


def test_notice_save_checkpoints_the_round_in_progress_and_the_model(tmp_path: Path) -> None:
    paths = _layout(tmp_path, {"num_round": "100000", "save_model_on_termination": "true"})
    process = _start(paths)
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(3)]
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    last = _round_of([line for line in lines + stdout.splitlines() if line.startswith("[")][-1])
    found = checkpointing.latest_checkpoint(paths.resolve("/opt/ml/checkpoints"))
    assert found is not None and found[0] == last  # the last round trained is the last one saved
    assert f"after round {last}, checkpoint xgboost-checkpoint.{last} written" in stderr
    model = checkpointing.load_booster(paths.model / "xgboost-model")
    assert model.num_boosted_rounds() == last + 1


def test_two_hosts_stop_after_the_same_round_and_resume_with_nothing_redone(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(20000, 8))
    labels = features @ rng.normal(size=8) + rng.normal(scale=0.1, size=20000)
    train = channel("train", _parts(tmp_path / "train", labels[:16000], features[:16000], 4))
    train["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    validation = channel("validation", _parts(tmp_path / "validation", labels[16000:], features[16000:], 1))
    hps = {"num_round": "300", "max_depth": "6", "eta": "0.05", "save_model_on_termination": "true"}
    request = xgboost_job("two", f"file://{tmp_path}/output", [train, validation], hps)
    request["ResourceConfig"]["InstanceCount"] = 2
    request["CheckpointConfig"] = {"S3Uri": "s3://checkpoints/two"}
    environ = {
        "TRAINPLANE_HOME": str(tmp_path / "home"),
        "TRAINPLANE_OVERSUBSCRIPTION": "4",
        "TRAINPLANE_SPOT_NOTICE_SECONDS": "30",
    }
    with TrainPlane(environ=environ) as tp:
        report = spot_test(tp, request, 0, {"type": "schedule", "at_steps": [100]})
        stopped = [e.message for e in tp.log_events("two-spot") if "stopped by SIGTERM after" in e.message]
        transitions = tp.describe_training_job(TrainingJobName="two-spot")["SecondaryStatusTransitions"]
        notice = next(t["StartTime"].timestamp() for t in transitions if t["Status"] == "Interrupted")
        ended = tp._platform.store.attempts("two-spot")[0].end_time
        after_notice = [
            f"{e.timestamp - notice:+.2f} s {e.stream}: {e.message[:200]}"
            for e in tp.log_events("two-spot")
            if notice <= e.timestamp <= (ended or notice) and not e.message.startswith("[")
        ]
    spot = report["spot"]
    assert [a["status"] for a in spot["attempts"]] == ["interrupted", "succeeded"]
    rounds = {re.search(r"after round (\d+)", message).group(1) for message in stopped}  # type: ignore[union-attr]
    assert len(stopped) == 2 and len(rounds) == 1  # both hosts stopped after the same round
    assert report["redone_steps"] == [0] and report["resumed"]
    assert spot["final_metrics"] == report["uninterrupted"]["final_metrics"]
    # A host left waiting in the collective for a peer that stopped would hold the attempt until the
    # kill at the end of the 30 s notice.
    assert ended is not None and ended - notice < 15, "\n".join(after_notice)
