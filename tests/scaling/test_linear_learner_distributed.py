"""Distributed built-in Linear Learner: 2 hosts on ShardedByS3Key data match one host on the same data."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from jobs_helpers import channel, xgboost_job
from trainplane import TrainPlane
from trainplane.algorithms.formats import Dataset
from trainplane.algorithms.linear_learner import data as ll_data
from trainplane.algorithms.linear_learner.distributed import Cluster, backend
from trainplane.algorithms.linear_learner.hyperparameters import parse

LL_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
HPS = {"predictor_type": "binary_classifier", "epochs": "10", "mini_batch_size": "50", "num_models": "8"}


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {
        "TRAINPLANE_HOME": str(tmp_path / "home"),
        "TRAINPLANE_OVERSUBSCRIPTION": "4",
        "TRAINPLANE_STOP_GRACE_SECONDS": "3",
    }
    with TrainPlane(environ=environ) as client:
        yield client


@pytest.fixture
def data(tmp_path: Path) -> dict[str, str]:
    """breast_cancer, shuffled: 400 train rows in 4 CSV objects (or 2, or 1), 169 validation rows."""
    x, y = load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    uris = {}
    for name, parts in (("train", 4), ("two_files", 2), ("one_file", 1)):
        directory = tmp_path / name
        directory.mkdir()
        for i, rows in enumerate(np.array_split(np.arange(400), parts)):
            np.savetxt(directory / f"part-{i}.csv", np.column_stack([y[rows], x[rows]]), delimiter=",")
        uris[name] = f"file://{directory}/"
    (tmp_path / "validation").mkdir()
    np.savetxt(tmp_path / "validation" / "v.csv", np.column_stack([y[400:], x[400:]]), delimiter=",")
    uris["validation"] = f"file://{tmp_path}/validation/"
    return uris


def job(name: str, tmp_path: Path, train_uri: str, validation_uri: str, count: int) -> dict[str, Any]:
    train = channel("train", train_uri)
    train["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    request = xgboost_job(
        name, f"file://{tmp_path}/output", [train, channel("validation", validation_uri)], HPS
    )
    request["AlgorithmSpecification"]["TrainingImage"] = LL_IMAGE
    request["ResourceConfig"]["InstanceCount"] = count
    return request


def final_metric(description: dict[str, Any], name: str) -> float:
    return next(m["Value"] for m in description["FinalMetricDataList"] if m["MetricName"] == name)


@pytest.mark.slow
def test_two_sharded_hosts_match_one_host_and_only_algo_1_saves_and_reports(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    tp.create_training_job(**job("ll-one", tmp_path, data["train"], data["validation"], 1))
    tp.create_training_job(**job("ll-two", tmp_path, data["train"], data["validation"], 2))
    one = tp.wait_for_training_job("ll-one", timeout=300)
    two = tp.wait_for_training_job("ll-two", timeout=300)
    assert one["TrainingJobStatus"] == "Completed", one.get("FailureReason")
    assert two["TrainingJobStatus"] == "Completed", two.get("FailureReason")
    accuracy = "validation:binary_classification_accuracy"
    assert final_metric(one, accuracy) > 0.9
    assert abs(final_metric(two, accuracy) - final_metric(one, accuracy)) <= 0.01

    staged = tmp_path / "home" / "jobs" / "ll-two" / "1"
    assert (staged / "algo-1" / "model" / "model_algo-1").exists()
    assert not any((staged / "algo-2" / "model").iterdir())
    with tarfile.open(tmp_path / "output" / "ll-two" / "output" / "model.tar.gz") as tar:
        assert tar.getnames() == ["model_algo-1"]

    logs = {host: [e.message for e in tp.log_events("ll-two", host=host)] for host in ("algo-1", "algo-2")}
    for lines in logs.values():  # each host trained on its two of the four 100-row objects
        assert any("on 200 records (2 hosts in all)" in line for line in lines), lines[:5]
    assert not [line for line in logs["algo-2"] if line.startswith("#")]  # metric lines: algo-1 only
    finals = [line for line in logs["algo-1"] if "validation binary_classification_accuracy" in line]
    assert len(finals) == 1 and finals[0].startswith("#quality_metric: host=algo-1, ")
    epochs = [line for line in logs["algo-1"] if ", epoch=" in line and " train " in line]
    assert len(epochs) == len({line.split(", ")[1] for line in epochs})  # one emission per epoch


@pytest.mark.slow
def test_a_host_without_data_is_excluded_and_the_job_completes(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    tp.create_training_job(**job("ll-excl", tmp_path, data["one_file"], data["validation"], 2))
    description = tp.wait_for_training_job("ll-excl", timeout=300)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    excluded = [e.message for e in tp.log_events("ll-excl", host="algo-2")]
    assert any("algo-2 has no training data; it is excluded" in line for line in excluded)
    trained = [e.message for e in tp.log_events("ll-excl", host="algo-1")]
    assert any("on 400 records." in line for line in trained)  # alone: a one-host job
    assert final_metric(description, "validation:binary_classification_accuracy") > 0.9


@pytest.mark.slow
def test_three_hosts_one_without_data_train_on_the_other_two_as_two_hosts_do(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    """Two objects, three hosts: algo-3 is excluded and algo-1, algo-2 form a second group."""
    for name, count in (("ll-pair", 2), ("ll-trio", 3)):
        request = job(name, tmp_path, data["two_files"], data["validation"], count)
        request["Environment"] = {"TRAINPLANE_COLLECTIVE_TIMEOUT_SECONDS": "30"}  # a hang fails soon
        tp.create_training_job(**request)
    pair = tp.wait_for_training_job("ll-pair", timeout=300)
    trio = tp.wait_for_training_job("ll-trio", timeout=300)
    assert pair["TrainingJobStatus"] == "Completed", pair.get("FailureReason")
    assert trio["TrainingJobStatus"] == "Completed", trio.get("FailureReason")
    excluded = [e.message for e in tp.log_events("ll-trio", host="algo-3")]
    assert any("algo-3 has no training data; it is excluded" in line for line in excluded)
    for host in ("algo-1", "algo-2"):
        lines = [e.message for e in tp.log_events("ll-trio", host=host)]
        assert any("on 200 records (2 hosts in all)" in line for line in lines), lines[:5]
    accuracy = "validation:binary_classification_accuracy"
    assert final_metric(trio, accuracy) > 0.9
    assert abs(final_metric(trio, accuracy) - final_metric(pair, accuracy)) <= 0.01


@pytest.mark.slow
def test_pipe_mode_hosts_train_as_in_file_mode_and_one_with_an_empty_fifo_is_excluded(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    # Two objects: on three hosts algo-3's FIFO is empty, and algo-1, algo-2 train as two hosts do.
    jobs = {
        name: job(name, tmp_path, data["two_files"], data["validation"], count)
        for name, count in (("ll-file", 2), ("ll-pipe", 2), ("ll-pipe-3", 3))
    }
    for name, request in jobs.items():
        request["AlgorithmSpecification"]["TrainingInputMode"] = "File" if name == "ll-file" else "Pipe"
        request["Environment"] = {"TRAINPLANE_COLLECTIVE_TIMEOUT_SECONDS": "30"}
        tp.create_training_job(**request)
    ended = {name: tp.wait_for_training_job(name, timeout=300) for name in jobs}
    for name, description in ended.items():
        assert description["TrainingJobStatus"] == "Completed", (name, description.get("FailureReason"))
    accuracy = "validation:binary_classification_accuracy"
    assert final_metric(ended["ll-file"], accuracy) > 0.9
    for name in ("ll-pipe", "ll-pipe-3"):
        assert abs(final_metric(ended[name], accuracy) - final_metric(ended["ll-file"], accuracy)) <= 0.01
        for host in ("algo-1", "algo-2"):
            lines = [e.message for e in tp.log_events(name, host=host)]
            assert any("on 200 records (2 hosts in all)" in line for line in lines), (name, lines[:5])
    excluded = [e.message for e in tp.log_events("ll-pipe-3", host="algo-3")]
    assert any("algo-3 has no training data; it is excluded" in line for line in excluded)


@pytest.mark.slow
def test_a_job_where_no_host_has_data_fails_with_a_client_error_as_one_host_does(
    tp: TrainPlane, tmp_path: Path, data: dict[str, str]
) -> None:
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "_part-0.csv").write_text("1,2\n")  # staged, but not a data file
    hidden = f"file://{tmp_path}/hidden/"
    for name, count in (("ll-none-1", 1), ("ll-none-2", 2)):
        tp.create_training_job(**job(name, tmp_path, hidden, data["validation"], count))
    one = tp.wait_for_training_job("ll-none-1", timeout=300).get("FailureReason", "")
    two = tp.wait_for_training_job("ll-none-2", timeout=300).get("FailureReason", "")
    assert one.startswith("ClientError: Channel 'train': No data files found"), one
    assert two.startswith("ClientError: None of the 2 hosts has data to train on"), two


def _host_environ(root: Path, rank: int, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "TRAINPLANE_ML_ROOT": str(root),
        "SM_CURRENT_HOST": f"algo-{rank + 1}",
        "WORLD_SIZE": "2",
        "RANK": str(rank),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "TRAINPLANE_COLLECTIVE_TIMEOUT_SECONDS": "10",
    }


@pytest.mark.slow
def test_a_host_that_fails_does_not_hang_the_others(tmp_path: Path) -> None:
    """algo-2's data is invalid: it fails before training; algo-1 gives up within the timeout."""
    from trainplane.control.plans import free_port

    port = free_port()
    processes = []
    for rank, label in ((0, "1"), (1, "7")):
        root = tmp_path / f"algo-{rank + 1}"
        (root / "input" / "data" / "train").mkdir(parents=True)
        (root / "input" / "config").mkdir(parents=True)
        (root / "input" / "config" / "hyperparameters.json").write_text(
            '{"predictor_type": "binary_classifier", "epochs": "2"}'
        )
        (root / "input" / "config" / "inputdataconfig.json").write_text(
            '{"train": {"ContentType": "text/csv", "TrainingInputMode": "File"}}'
        )
        (root / "input" / "data" / "train" / "a.csv").write_text(f"{label},1.0,2.0\n0,2.0,1.0\n" * 20)
        command = [sys.executable, "-m", "trainplane.algorithms.linear_learner"]
        processes.append(subprocess.Popen(command, env=_host_environ(root, rank, port)))
    started = time.monotonic()
    codes = [process.wait(timeout=120) for process in processes]
    assert codes == [1, 1]
    assert time.monotonic() - started < 90
    assert "label 7.0" in (tmp_path / "algo-2" / "output" / "failure").read_text()
    assert (tmp_path / "algo-1" / "output" / "failure").exists()


def test_backend_is_nccl_only_with_gpus_that_torch_can_use() -> None:
    assert backend(Cluster(gpus=1), cuda_available=True) == "nccl"
    assert backend(Cluster(gpus=1), cuda_available=False) == "gloo"
    assert backend(Cluster(gpus=0), cuda_available=True) == "gloo"
    cluster = Cluster.from_environ(
        {"WORLD_SIZE": "3", "RANK": "2", "MASTER_PORT": "1234", "SM_NUM_GPUS": "0"}
    )
    assert (cluster.world_size, cluster.rank, cluster.master_port, cluster.gpus) == (3, 2, 1234, 0)


def test_scaler_moments_of_two_shares_add_up_to_those_of_the_whole() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, size=(1000, 4)).astype(np.float32)
    y = rng.normal(2.0, 0.5, size=1000)
    hp = parse({"predictor_type": "regressor", "num_point_for_scaler": "1000"})
    whole = ll_data.fit_scaler(Dataset(x, y), hp)
    halves = ll_data.scaler_moments(Dataset(x[:500], y[:500]), hp, 500) + ll_data.scaler_moments(
        Dataset(x[500:], y[500:]), hp, 500
    )
    summed = ll_data.scaler_from_moments(halves, hp, sparse=False)
    np.testing.assert_allclose(summed.shift, whole.shift, rtol=1e-6)
    np.testing.assert_allclose(summed.scale, whole.scale, rtol=1e-6)
    assert summed.label_shift == pytest.approx(whole.label_shift)
    assert summed.label_scale == pytest.approx(whole.label_scale)
    np.testing.assert_allclose(whole.scale, x.std(axis=0), rtol=1e-5)


def test_a_host_waits_for_the_masters_store_to_listen_before_joining() -> None:
    import socket
    import threading

    from trainplane.algorithms.linear_learner.distributed import wait_for_listener
    from trainplane.control.plans import free_port

    port = free_port()
    listener = socket.socket()
    opened = threading.Timer(0.3, lambda: (listener.bind(("127.0.0.1", port)), listener.listen()))
    opened.start()
    try:
        wait_for_listener("127.0.0.1", port, timeout=30)
        assert listener.accept()[0] is not None  # the probe reached the listener that appeared later
    finally:
        opened.join()
        listener.close()


def test_waiting_for_a_store_that_never_listens_ends_at_the_timeout() -> None:
    from trainplane.algorithms.linear_learner.distributed import wait_for_listener
    from trainplane.control.plans import free_port

    started = time.monotonic()
    wait_for_listener("127.0.0.1", free_port(), timeout=0.2)
    assert time.monotonic() - started >= 0.2
