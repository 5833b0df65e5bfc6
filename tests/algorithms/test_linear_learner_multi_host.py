"""A two-host Linear Learner job: ShardedByS3Key gives each host its share, FullyReplicated everything.

Linear Learner hosts do not synchronise yet (each trains on its own share, independently);
what is checked here is the per-host staging. Staging itself is unit-tested in tests/runtime.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from jobs_helpers import channel, xgboost_job
from trainplane import TrainPlane

pytestmark = pytest.mark.slow
LL_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home"), "TRAINPLANE_OVERSUBSCRIPTION": "2"}
    with TrainPlane(environ=environ) as client:
        yield client


def test_two_hosts_get_their_shards_and_the_replicated_channel(tp: TrainPlane, tmp_path: Path) -> None:
    x, y = load_breast_cancer(return_X_y=True)
    data = tmp_path / "data"
    (data / "train").mkdir(parents=True)
    (data / "validation").mkdir()
    for i in range(4):  # four objects: host 1 gets part-0 and part-2, host 2 part-1 and part-3
        rows = slice(i * 100, (i + 1) * 100)
        np.savetxt(data / "train" / f"part-{i}.csv", np.column_stack([y[rows], x[rows]]), delimiter=",")
    np.savetxt(data / "validation" / "v.csv", np.column_stack([y[400:], x[400:]]), delimiter=",")
    train = channel("train", f"file://{data}/train/")
    train["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    hps = {"predictor_type": "binary_classifier", "epochs": "2", "num_models": "2"}
    request = xgboost_job(
        "ll-2", f"file://{tmp_path}/out", [train, channel("validation", f"file://{data}/validation/")], hps
    )
    request["AlgorithmSpecification"]["TrainingImage"] = LL_IMAGE
    request["ResourceConfig"]["InstanceCount"] = 2
    tp.create_training_job(**request)
    described = tp.wait_for_training_job("ll-2", timeout=300)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    # Staged data is removed when a job ends, so each host's share is read from its own log.
    for host in ("algo-1", "algo-2"):
        text = "\n".join(event.message for event in tp.log_events("ll-2", host=host))
        assert "on 200 records" in text, host  # two of the four 100-row objects
        # The hosts train one model together; only the leader reports metrics (no duplicate emissions).
        reported = f"#quality_metric: host={host}, validation binary_classification_accuracy" in text
        assert reported == (host == "algo-1"), host
