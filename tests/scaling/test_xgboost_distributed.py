"""Distributed built-in XGBoost: 2 hosts on ShardedByS3Key data match one host on the same data."""

from __future__ import annotations

import contextlib
import gc
import json
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from xgboost import collective
from xgboost.core import XGBoostError
from xgboost.tracker import RabitTracker

from jobs_helpers import channel, xgboost_job
from trainplane import TrainPlane
from trainplane.algorithms.xgboost import checkpointing, distributed
from trainplane.algorithms.xgboost.distributed import device_params

pytestmark = pytest.mark.slow


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {
        "TRAINPLANE_HOME": str(tmp_path / "home"),
        "TRAINPLANE_OVERSUBSCRIPTION": "4",
        "TRAINPLANE_STOP_GRACE_SECONDS": "3",
    }
    with TrainPlane(environ=environ) as client:
        yield client


def write_parts(directory: Path, labels: np.ndarray, features: np.ndarray, parts: int) -> str:
    directory.mkdir(parents=True)
    for i, (y, x) in enumerate(
        zip(np.array_split(labels, parts), np.array_split(features, parts), strict=True)
    ):
        np.savetxt(directory / f"part-{i}.csv", np.column_stack([y, x]), delimiter=",", fmt="%.6g")
    return f"file://{directory}/"


@pytest.fixture
def data(tmp_path: Path) -> dict[str, str]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(6000, 8))
    labels = features @ rng.normal(size=8) + np.sin(3 * features[:, 0]) + rng.normal(scale=0.1, size=6000)
    return {
        "train": write_parts(tmp_path / "train", labels[:5000], features[:5000], 4),
        "validation": write_parts(tmp_path / "validation", labels[5000:], features[5000:], 1),
        "two_files": write_parts(tmp_path / "two", labels[:5000], features[:5000], 2),
    }


HPS = {"num_round": "30", "max_depth": "4", "eta": "0.3", "objective": "reg:squarederror"}


def job(name: str, tmp_path: Path, train_uri: str, validation_uri: str, count: int) -> dict[str, Any]:
    train = channel("train", train_uri)
    train["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    request = xgboost_job(
        name, f"file://{tmp_path}/output", [train, channel("validation", validation_uri)], HPS
    )
    request["ResourceConfig"]["InstanceCount"] = count
    return request


def final_metric(description: dict[str, Any], name: str) -> float:
    return next(m["Value"] for m in description["FinalMetricDataList"] if m["MetricName"] == name)


def test_two_sharded_hosts_match_one_host_and_only_the_master_saves(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    tp.create_training_job(**job("xgb-one", tmp_path, data["train"], data["validation"], 1))
    tp.create_training_job(**job("xgb-two", tmp_path, data["train"], data["validation"], 2))
    one = tp.wait_for_training_job("xgb-one", timeout=240)
    two = tp.wait_for_training_job("xgb-two", timeout=240)
    assert one["TrainingJobStatus"] == "Completed", one.get("FailureReason")
    assert two["TrainingJobStatus"] == "Completed", two.get("FailureReason")
    rmse_one = final_metric(one, "validation:rmse")
    rmse_two = final_metric(two, "validation:rmse")
    assert rmse_two == pytest.approx(rmse_one, rel=0.03)
    staged = tmp_path / "home" / "jobs" / "xgb-two" / "1"
    assert (staged / "algo-1" / "model" / "xgboost-model").exists()
    assert not (staged / "algo-2" / "model" / "xgboost-model").exists()
    with tarfile.open(tmp_path / "output" / "xgb-two" / "output" / "model.tar.gz") as tar:
        assert tar.getnames() == ["xgboost-model"]
    # Each host read its own half of the four objects (ShardedByS3Key).
    for host in ("algo-1", "algo-2"):
        lines = [e.message for e in tp.log_events("xgb-two", host=host)]
        assert any("train: 2500 rows" in line for line in lines), lines[:5]
    assert any("Distributed training on 2 hosts: algo-1, algo-2." in line for line in lines)


def test_each_host_evaluates_its_share_and_the_metrics_are_those_of_all_validation_rows(
    tp: TrainPlane, tmp_path: Path
) -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(5001, 6))
    labels = (features[:, 0] + features[:, 1] * features[:, 2] + rng.normal(scale=0.5, size=5001) > 0) * 1.0
    train = write_parts(tmp_path / "train", labels[:4000], features[:4000], 2)
    validation = write_parts(tmp_path / "validation", labels[4000:], features[4000:], 1)  # 1001 rows
    request = job("xgb-eval", tmp_path, train, validation, 2)
    request["HyperParameters"] = {
        "num_round": "12",
        "max_depth": "3",
        "objective": "binary:logistic",
        "eval_metric": "logloss,error",
    }
    tp.create_training_job(**request)
    described = tp.wait_for_training_job("xgb-eval", timeout=240)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    for host, rows in (("algo-1", 500), ("algo-2", 501)):
        lines = [e.message for e in tp.log_events("xgb-eval", host=host)]
        assert any(f"Evaluating {rows} of the 1001 validation rows on this host" in line for line in lines)
    # The last round's metrics, recomputed by one process from the saved model on all 1001 rows.
    with tarfile.open(tmp_path / "output" / "xgb-eval" / "output" / "model.tar.gz") as tar:
        tar.extractall(tmp_path / "model", filter="data")
    booster = checkpointing.load_booster(tmp_path / "model" / "xgboost-model")
    p = booster.predict(xgb.DMatrix(features[4000:]))
    y = labels[4000:]
    logloss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    error = np.mean((p > 0.5) != (y > 0.5))
    assert final_metric(described, "validation:logloss") == pytest.approx(logloss, abs=1e-5)
    assert final_metric(described, "validation:error") == pytest.approx(error, abs=1e-5)


RANK_ON_UNEQUAL_SHARES = """
import json, sys
import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from xgboost import collective
port, rank, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
x = rng.normal(size=(3000, 4))
y = (x[:, 0] + rng.normal(size=3000) > 0) * 1.0
train, valid = (slice(0, 1000), slice(2000, 2020)) if rank == 0 else (slice(1000, 2000), slice(2020, 3000))
context = collective.CommunicatorContext(
    dmlc_tracker_uri="127.0.0.1", dmlc_tracker_port=port, dmlc_task_id=str(rank)
)
with context:
    log = {}
    params = {"objective": "binary:logistic", "eval_metric": ["logloss", "error", "rmse", "mae", "auc"]}
    booster = xgb.train({**params, "nthread": 1}, xgb.DMatrix(x[train], y[train]), 5,
                        evals=[(xgb.DMatrix(x[valid], y[valid]), "v")], evals_result=log)
if rank == 0:
    booster.save_model(out + ".json")
    json.dump({name: values[-1] for name, values in log["v"].items()}, open(out, "w"))
"""


def test_ratio_metrics_over_unequal_shares_are_those_of_all_rows_and_auc_is_not(tmp_path: Path) -> None:
    """What ``validation_split`` relies on: 20 and 980 of 1000 validation rows on two ranks."""
    port = free_port()
    tracker = distributed._tracker("127.0.0.1", port, 2)
    out = tmp_path / "metrics"
    ranks = [
        subprocess.Popen([sys.executable, "-c", RANK_ON_UNEQUAL_SHARES, str(port), str(rank), str(out)])
        for rank in (0, 1)
    ]
    assert [rank.wait(timeout=120) for rank in ranks] == [0, 0]
    tracker.wait_for(timeout=30)
    reported = json.loads(out.read_text())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4))
    y = ((x[:, 0] + rng.normal(size=3000) > 0) * 1.0)[2000:]
    p = xgb.Booster(model_file=str(out) + ".json").predict(xgb.DMatrix(x[2000:]))
    assert reported["logloss"] == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), abs=1e-6)
    assert reported["error"] == pytest.approx(np.mean((p > 0.5) != (y > 0.5)), abs=1e-9)
    assert reported["rmse"] == pytest.approx(np.sqrt(np.mean((p - y) ** 2)), abs=1e-6)
    assert reported["mae"] == pytest.approx(np.mean(np.abs(p - y)), abs=1e-6)
    assert abs(reported["auc"] - roc_auc_score(y, p)) > 1e-5  # averaged per rank: not the AUC of all rows


def test_a_host_without_data_is_excluded_and_the_job_completes(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    tp.create_training_job(**job("xgb-three", tmp_path, data["two_files"], data["validation"], 3))
    description = tp.wait_for_training_job("xgb-three", timeout=240)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    excluded = [e.message for e in tp.log_events("xgb-three", host="algo-3")]
    assert any("algo-3 has no training data; it is excluded" in line for line in excluded)
    assert any(
        "Distributed training on 2 hosts" in e.message for e in tp.log_events("xgb-three", host="algo-1")
    )


def test_pipe_mode_hosts_train_as_in_file_mode_and_one_with_an_empty_fifo_is_excluded(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    # Two objects: on three hosts algo-3's FIFO is empty, and algo-1, algo-2 train as two hosts do.
    jobs = {
        name: job(name, tmp_path, data["two_files"], data["validation"], count)
        for name, count in (("xgb-file", 2), ("xgb-pipe", 2), ("xgb-pipe-3", 3))
    }
    for name, request in jobs.items():
        request["AlgorithmSpecification"]["TrainingInputMode"] = "File" if name == "xgb-file" else "Pipe"
        tp.create_training_job(**request)
    ended = {name: tp.wait_for_training_job(name, timeout=240) for name in jobs}
    for name, description in ended.items():
        assert description["TrainingJobStatus"] == "Completed", (name, description.get("FailureReason"))
    rmse = final_metric(ended["xgb-file"], "validation:rmse")
    assert final_metric(ended["xgb-pipe"], "validation:rmse") == pytest.approx(rmse, rel=1e-6)
    assert final_metric(ended["xgb-pipe-3"], "validation:rmse") == pytest.approx(rmse, rel=1e-6)
    for host in ("algo-1", "algo-2"):
        lines = [e.message for e in tp.log_events("xgb-pipe", host=host)]
        assert any("train: 2500 rows" in line for line in lines), lines[:5]
    excluded = [e.message for e in tp.log_events("xgb-pipe-3", host="algo-3")]
    assert any("algo-3 has no training data; it is excluded" in line for line in excluded)
    with tarfile.open(tmp_path / "output" / "xgb-pipe" / "output" / "model.tar.gz") as tar:
        assert tar.getnames() == ["xgboost-model"]


def test_a_host_with_train_data_but_no_validation_shard_is_excluded_for_that(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    request = job("xgb-vshard", tmp_path, data["train"], data["validation"], 2)
    request["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    tp.create_training_job(**request)
    description = tp.wait_for_training_job("xgb-vshard", timeout=240)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    excluded = [e.message for e in tp.log_events("xgb-vshard", host="algo-2")]
    assert any(
        "Host algo-2 has training data but no validation data; it is excluded" in line for line in excluded
    ), excluded


def test_a_job_where_no_host_has_data_fails_with_a_client_error_as_one_host_does(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "_part-0.csv").write_text("1,2\n")  # staged, but not a data file
    (tmp_path / "zero").mkdir()
    (tmp_path / "zero" / "part-0.csv").write_text("")  # an empty FIFO in Pipe mode
    jobs = {
        "xgb-none-1": job("xgb-none-1", tmp_path, f"file://{tmp_path}/hidden/", data["validation"], 1),
        "xgb-none-2": job("xgb-none-2", tmp_path, f"file://{tmp_path}/hidden/", data["validation"], 2),
        "xgb-none-pipe": job("xgb-none-pipe", tmp_path, f"file://{tmp_path}/zero/", data["validation"], 2),
    }
    jobs["xgb-none-pipe"]["AlgorithmSpecification"]["TrainingInputMode"] = "Pipe"
    for request in jobs.values():
        tp.create_training_job(**request)
    reasons = {name: tp.wait_for_training_job(name, timeout=240).get("FailureReason", "") for name in jobs}
    assert reasons["xgb-none-1"].startswith("ClientError: No data files found in channel directory")
    for name in ("xgb-none-2", "xgb-none-pipe"):
        assert reasons[name].startswith("ClientError: None of the 2 hosts has data to train on"), reasons


def test_device_is_cuda_only_with_visible_gpus_and_a_cuda_build() -> None:
    assert device_params({"SM_NUM_GPUS": "1", "CUDA_VISIBLE_DEVICES": "2"}, cuda_build=True) == {
        "device": "cuda"
    }
    assert device_params({"SM_NUM_GPUS": "1", "CUDA_VISIBLE_DEVICES": "2"}, cuda_build=False) == {}
    assert device_params({"SM_NUM_GPUS": "0"}, cuda_build=True) == {}
    assert device_params({"SM_NUM_GPUS": "4", "CUDA_VISIBLE_DEVICES": ""}, cuda_build=True) == {}


def test_a_host_that_asks_before_the_tracker_listens_joins_once_it_does() -> None:
    port = free_port()
    started: list[RabitTracker] = []
    later = threading.Timer(0.5, lambda: started.append(distributed._tracker("127.0.0.1", port, 1)))
    later.start()
    try:
        with distributed._member("127.0.0.1", port, "algo-1"):
            total = collective.allreduce(np.array([2.0]), collective.Op.SUM)
            assert collective.get_world_size() == 1
    finally:
        later.join()
    assert total.tolist() == [2.0]
    started[0].wait_for()


def test_joining_gives_up_at_its_deadline_when_no_tracker_ever_listens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(distributed, "JOIN_TIMEOUT_SECONDS", 0.2)
    with (
        pytest.raises(XGBoostError, match="Failed to connect to the tracker"),
        distributed._member("127.0.0.1", free_port(), "algo-2"),
    ):
        pass


PEER_WITHOUT_GOODBYE = """
import os, sys
import numpy as np
from xgboost import collective
context = collective.CommunicatorContext(
    dmlc_tracker_uri="127.0.0.1", dmlc_tracker_port=int(sys.argv[1]), dmlc_task_id="algo-2"
)
context.__enter__()
collective.allreduce(np.array([1.0]), collective.Op.SUM)
os._exit(0)  # dies after the last collective call, without leaving
"""


def test_the_trackers_host_ends_when_a_peer_died_without_its_goodbye(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(distributed, "LEAVE_TIMEOUT_SECONDS", 1)
    port = free_port()
    tracker = distributed._tracker("127.0.0.1", port, 2)
    peer = subprocess.Popen([sys.executable, "-c", PEER_WITHOUT_GOODBYE, str(port)])
    with distributed._member("127.0.0.1", port, "algo-1"):
        total = collective.allreduce(np.array([2.0]), collective.Op.SUM)
    assert peer.wait(timeout=60) == 0
    started = time.monotonic()
    distributed._wait_for_goodbyes(tracker, "algo-1")  # XGBoost's own wait_for() would never return
    assert total.tolist() == [3.0]
    assert time.monotonic() - started < 30
    assert "not every host left the collective within 1 s" in capsys.readouterr().err
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    del tracker
    gc.collect()
    assert unraisable == []  # the tracker was freed: no traceback from its destructor in the job's log


def test_a_goodbye_that_finds_no_tracker_is_logged_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    tracker = distributed._tracker("127.0.0.1", free_port(), 1)
    port = int(tracker.worker_args()["dmlc_tracker_port"])
    with distributed._member("127.0.0.1", port, "algo-1"):
        total = collective.allreduce(np.array([2.0]), collective.Op.SUM)
        with contextlib.suppress(XGBoostError):  # it reports the connection it lost
            tracker.free()  # the tracker's host is gone before this host leaves
    assert total.tolist() == [2.0]
    assert "Host algo-1 could not leave the collective cleanly" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
