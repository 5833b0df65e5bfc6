"""Spare agents: a pool warmed on idle cores, and pre-loaded for the built-in the last job ran."""

from __future__ import annotations

import json
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from sklearn.datasets import load_breast_cancer

from jobs_helpers import ROLE, channel, script_job, xgboost_job
from trainplane import TrainPlane
from trainplane.errors import ConfigurationError
from trainplane.executors.cpus import CpuAllocator, machine_cores
from trainplane.executors.local import LocalExecutor
from trainplane.runtime import agent
from trainplane.settings import load_settings

LL_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    # Two ml.m5.large fit on two cores: room for a two-host job.
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home"), "TRAINPLANE_OVERSUBSCRIPTION": "2"}
    with TrainPlane(environ=environ) as client:
        yield client


def executor_of(tp: TrainPlane) -> LocalExecutor:
    executor = tp._platform.reconciler.executor  # type: ignore[union-attr]
    assert isinstance(executor, LocalExecutor)
    return executor


def breast_cancer_parts(tmp_path: Path) -> Path:
    """The bundled data set as two CSV objects (label first): ShardedByS3Key gives two hosts one each."""
    data = tmp_path / "train"
    if not data.exists():
        features, labels = load_breast_cancer(return_X_y=True)
        data.mkdir()
        for part in range(2):
            rows = slice(part, None, 2)
            table = np.column_stack([labels[rows], features[rows]])
            np.savetxt(data / f"part-{part}.csv", table, delimiter=",", fmt="%.8g")
    return data


def ll_job(name: str, tmp_path: Path, count: int = 1) -> dict[str, Any]:
    train = channel("train", f"file://{breast_cancer_parts(tmp_path)}/")
    train["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": LL_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": {"predictor_type": "binary_classifier", "epochs": "4", "mini_batch_size": "50"},
        "InputDataConfig": [train],
        "OutputDataConfig": {"S3OutputPath": f"file://{tmp_path}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": count, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def run(tp: TrainPlane, request: dict[str, Any]) -> dict[str, Any]:
    tp.create_training_job(**request)
    described = tp.wait_for_training_job(request["TrainingJobName"], timeout=300)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    return described


def children_started_preloaded(tp: TrainPlane, name: str) -> list[bool]:
    agents = sorted((tp.settings.jobs_root / name).glob("*/*.agent"))
    return [json.loads((a / "child.json").read_text())["preloaded"] for a in agents]


def wait_for_spares(executor: LocalExecutor, count: int, preloading: bool, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        spares = [pid for pid, preload in executor.spares() if bool(preload) == preloading]
        if len(spares) >= count:
            return spares
        time.sleep(0.05)
    raise AssertionError(f"no {count} spares (preloading={preloading}): {executor.spares()}")


def final_metrics(described: dict[str, Any]) -> dict[str, float]:
    """Every final metric but the throughput (records per second)."""
    found = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    return {name: value for name, value in found.items() if not name.endswith("throughput")}


@pytest.mark.slow
def test_after_a_linear_learner_job_the_next_hosts_start_preloaded_with_the_same_results(
    tp: TrainPlane, tmp_path: Path
) -> None:
    executor = executor_of(tp)
    cold = run(tp, ll_job("ll-cold", tmp_path))
    assert children_started_preloaded(tp, "ll-cold") == [False]  # the first launch finds no spare
    wait_for_spares(executor, 2, preloading=True)
    warm = run(tp, ll_job("ll-warm", tmp_path))
    assert children_started_preloaded(tp, "ll-warm") == [True]
    assert len(final_metrics(cold)) >= 5
    assert final_metrics(warm) == final_metrics(cold)  # the same process, only started earlier
    wait_for_spares(executor, 2, preloading=True)
    run(tp, ll_job("ll-two-hosts", tmp_path, count=2))
    assert children_started_preloaded(tp, "ll-two-hosts") == [True, True]


def model_bytes(tmp_path: Path, name: str) -> bytes:
    with tarfile.open(tmp_path / "output" / name / "output" / "model.tar.gz") as archive:
        member = archive.extractfile("xgboost-model")
        assert member is not None
        return member.read()


@pytest.mark.slow
def test_after_an_xgboost_job_the_next_host_starts_preloaded_and_trains_the_same_model(
    tp: TrainPlane, tmp_path: Path
) -> None:
    executor = executor_of(tp)
    train = [channel("train", f"file://{breast_cancer_parts(tmp_path)}/")]
    hyperparameters = {"num_round": "20", "objective": "binary:logistic", "eval_metric": "logloss"}

    def job(name: str) -> dict[str, Any]:
        return xgboost_job(name, f"file://{tmp_path}/output", train, hyperparameters)

    cold = run(tp, job("xgb-cold"))
    assert children_started_preloaded(tp, "xgb-cold") == [False]
    wait_for_spares(executor, 2, preloading=True)
    warm = run(tp, job("xgb-warm"))
    assert children_started_preloaded(tp, "xgb-warm") == [True]
    assert "train:logloss" in final_metrics(cold)
    assert final_metrics(warm) == final_metrics(cold)
    assert model_bytes(tmp_path, "xgb-warm") == model_bytes(tmp_path, "xgb-cold")


@pytest.mark.slow
def test_a_script_job_on_a_preloaded_spare_starts_fresh_and_no_preloaded_process_outlives_it(
    tp: TrainPlane, tmp_path: Path
) -> None:
    executor = executor_of(tp)
    run(tp, ll_job("ll-first", tmp_path))
    spares = wait_for_spares(executor, 2, preloading=True)
    preloaded = [child.pid for pid in spares for child in psutil.Process(pid).children()]
    assert len(preloaded) == 2
    run(tp, script_job("script-after", tmp_path, "print('plain script')"))
    assert children_started_preloaded(tp, "script-after") == [False]
    wait_for_spares(executor, 2, preloading=False)  # the pool follows the job kind
    deadline = time.monotonic() + 10
    while any(psutil.pid_exists(pid) for pid in preloaded) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in preloaded if psutil.pid_exists(pid)]


def test_spares_warm_up_only_on_cores_no_host_holds() -> None:
    cores = machine_cores()
    cpus = CpuAllocator(cores)
    executor = LocalExecutor(cpus=cpus, spares=2)
    try:
        for core in cores:
            cpus.allocate(f"host-{core}", 1)
        executor.prepare_spare()
        assert executor.spares() == []  # every core runs a host: nothing may compete with them
        cpus.release(f"host-{cores[-1]}")
        executor.prepare_spare()
        spares = executor.spares()
        assert len(spares) == 2
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            affinities = [psutil.Process(pid).cpu_affinity() for pid, _ in spares]
            if affinities == [[cores[-1]], [cores[-1]]]:
                break
            time.sleep(0.02)
        assert affinities == [[cores[-1]], [cores[-1]]]
    finally:
        executor.close()
    assert executor.spares() == []
    assert not any(psutil.pid_exists(pid) for pid, _ in spares)


def test_the_number_of_spares_is_a_setting(tmp_path: Path) -> None:
    assert load_settings({}, home=tmp_path).spare_agents == 2
    assert load_settings({"TRAINPLANE_SPARE_AGENTS": "0"}, home=tmp_path).spare_agents == 0
    with pytest.raises(ConfigurationError, match="TRAINPLANE_SPARE_AGENTS must be a whole number"):
        load_settings({"TRAINPLANE_SPARE_AGENTS": "two"}, home=tmp_path)
    executor = LocalExecutor(spares=0)
    executor.prepare_spare()
    assert executor.spares() == []


def test_the_spare_command_line_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert agent.main(["--spare", "--bogus", "1"]) == 2
    assert agent.main(["--spare", "--cpus"]) == 2
    assert "usage:" in capsys.readouterr().err
