"""A Ray node lost mid-job: the job resumes on the remaining node from its checkpoints and completes.

A 2-node Ray cluster on this machine (ray.cluster_utils.Cluster on loopback; the head has no CPUs and
only holds the driver). A script-mode job that checkpoints every step runs on one node; that node is
removed. A managed spot job takes the interruption path (Interrupted, then a new attempt when capacity
allows); a job without spot is re-run under its RetryStrategy. Either way the new attempt lands on the
other node, restores the checkpoints and finishes the remaining steps.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs_helpers import kill_processes_mentioning, script_job
from trainplane import TrainPlane
from trainplane.control.supervision import attempt_stream

pytestmark = pytest.mark.slow
# Before ray is imported: keep every node (and the GCS) on the loopback interface.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
import ray  # noqa: E402 - after the environment variable above

GIB = 2**30
NODE = {"node_ip_address": "127.0.0.1", "object_store_memory": 80 * 2**20, "include_dashboard": False}
WORKER = {**NODE, "num_cpus": 2, "memory": 9 * GIB}
BUCKET = "checkpoints"
STEPS = 30

# Plain Python: saves step-NNN atomically every step and prints the lines the test (and step
# schedules) read; a restart continues after the newest checkpoint it finds.
STEPPING = f"""
    import glob, json, os, time
    folder = json.load(open("/opt/ml/input/config/checkpointconfig.json"))["LocalPath"]
    done = sorted(glob.glob(os.path.join(folder, "step-[0-9][0-9][0-9]")))
    start = int(done[-1][-3:]) if done else 0
    print(f"resumed-from {{start}}", flush=True)
    for step in range(start + 1, {STEPS} + 1):
        time.sleep(0.4)
        path = os.path.join(folder, f"step-{{step:03d}}")
        with open(path + ".sagemaker-ignore", "w") as f:
            f.write(str(step))
        os.replace(path + ".sagemaker-ignore", path)
        print(f"trainplane-step: {{step}}", flush=True)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "done"), "w") as f:
        f.write(str(step))
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={**NODE, "num_cpus": 0})
    ray.init(address=cluster.address, namespace="trainplane")  # the driver on the head, never removed
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture
def two_nodes(cluster: Any) -> Any:
    """Two worker nodes, whatever an earlier test removed."""
    while len(cluster.worker_nodes) < 2:
        cluster.add_node(**WORKER)
    cluster.wait_for_nodes()
    return cluster


@pytest.fixture
def tp(two_nodes: Any, tmp_path: Path) -> Iterator[TrainPlane]:
    home = tmp_path / "home"
    (home / "s3" / BUCKET).mkdir(parents=True)  # the local store: every node is this machine
    environ = {
        "TRAINPLANE_HOME": str(home),
        "TRAINPLANE_EXECUTOR": "ray",
        "TRAINPLANE_RAY_ADDRESS": two_nodes.address,
        "TRAINPLANE_STOP_GRACE_SECONDS": "5",
        "TRAINPLANE_SPOT_NOTICE_SECONDS": "5",
    }
    with TrainPlane(environ=environ) as client:
        yield client
    kill_processes_mentioning(home)  # what the removed node's agent left running


def stepping_job(name: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return script_job(
        name,
        tmp_path,
        STEPPING,
        CheckpointConfig={"S3Uri": f"s3://{BUCKET}/{name}"},
        StoppingCondition={"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 900},
        **overrides,
    )


def lines_of(tp: TrainPlane, name: str, attempt: int) -> list[str]:
    record = tp._platform.store.attempts(name)[attempt - 1]
    stream = attempt_stream(record, "algo-1")
    return [e.message for e in tp.log_events(name) if e.stream == stream]


def remove_node_after_step(tp: TrainPlane, cluster: Any, name: str, step: int) -> str:
    """Wait for ``step`` in the first attempt, then remove the node its host runs on; that node's id."""
    deadline = time.monotonic() + 120
    while not (tp._platform.store.attempts(name) and f"trainplane-step: {step}" in lines_of(tp, name, 1)):
        assert time.monotonic() < deadline, "the job never reached the step"
        time.sleep(0.2)
    record = tp._platform.store.attempts(name)[0].hosts[0]
    actor = ray.get_actor(record["actor"], namespace="trainplane")
    node_id = str(ray.get(actor.status.remote())["node"])
    cluster.remove_node(next(n for n in cluster.worker_nodes if n.node_id == node_id))
    return node_id


def resumed_from(lines: list[str]) -> int:
    return int(next(line for line in lines if line.startswith("resumed-from ")).split()[1])


def test_spot_job_resumes_on_the_remaining_node_after_its_node_is_removed(
    tp: TrainPlane, two_nodes: Any, tmp_path: Path
) -> None:
    tp.create_training_job(**stepping_job("ray-spot", tmp_path, EnableManagedSpotTraining=True))
    lost = remove_node_after_step(tp, two_nodes, "ray-spot", 3)
    description = tp.wait_for_training_job("ray-spot", timeout=240)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    attempts = tp._platform.store.attempts("ray-spot")
    assert [a.status for a in attempts] == ["interrupted", "succeeded"]
    interrupted = [t for t in description["SecondaryStatusTransitions"] if t["Status"] == "Interrupted"]
    assert interrupted and "lost its node" in interrupted[0]["StatusMessage"]
    assert resumed_from(lines_of(tp, "ray-spot", 1)) == 0
    assert resumed_from(lines_of(tp, "ray-spot", 2)) >= 3  # restored, not started over
    assert f"trainplane-step: {STEPS}" in lines_of(tp, "ray-spot", 2)
    assert lost not in {n.node_id for n in two_nodes.worker_nodes}  # so attempt 2 ran on the other node
    assert (tmp_path / "output" / "ray-spot" / "output" / "model.tar.gz").exists()


def test_job_with_retry_strategy_reruns_after_its_node_is_removed(
    tp: TrainPlane, two_nodes: Any, tmp_path: Path
) -> None:
    request = stepping_job("ray-retry", tmp_path, RetryStrategy={"MaximumRetryAttempts": 1})
    request["StoppingCondition"].pop("MaxWaitTimeInSeconds")
    tp.create_training_job(**request)
    remove_node_after_step(tp, two_nodes, "ray-retry", 3)
    description = tp.wait_for_training_job("ray-retry", timeout=240)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    attempts = tp._platform.store.attempts("ray-retry")
    assert [a.status for a in attempts] == ["lost", "succeeded"]
    assert attempts[0].reason is not None and "lost its node" in attempts[0].reason
    assert resumed_from(lines_of(tp, "ray-retry", 2)) >= 3


def test_a_stop_while_the_cluster_lacks_room_for_the_next_attempt_ends_it_at_once(
    two_nodes: Any, tmp_path: Path
) -> None:
    """Both nodes per attempt; one is removed, so the next attempt's placement group waits for room.
    Its agents never started, so a stop needs neither the grace period (long here) nor a remote call
    to actors that do not exist yet: before, this took the grace plus 30 s per host."""
    home = tmp_path / "home"
    (home / "s3" / BUCKET).mkdir(parents=True)
    environ = {
        "TRAINPLANE_HOME": str(home),
        "TRAINPLANE_EXECUTOR": "ray",
        "TRAINPLANE_RAY_ADDRESS": two_nodes.address,
        "TRAINPLANE_STOP_GRACE_SECONDS": "600",
        "TRAINPLANE_SPOT_NOTICE_SECONDS": "5",
    }
    with TrainPlane(environ=environ) as tp:
        request = stepping_job("ray-room", tmp_path, EnableManagedSpotTraining=True)
        request["ResourceConfig"]["InstanceCount"] = 2
        tp.create_training_job(**request)
        remove_node_after_step(tp, two_nodes, "ray-room", 2)
        deadline = time.monotonic() + 120
        while len(tp._platform.store.attempts("ray-room")) < 2:  # the next attempt is launched, unplaced
            assert time.monotonic() < deadline, "no second attempt was launched"
            time.sleep(0.2)
        restart = tp.describe_training_job(TrainingJobName="ray-room")["SecondaryStatusTransitions"][-1]
        assert restart["Status"] == "Starting"
        assert restart["StatusMessage"] == (
            "Restarting the job: waiting for the Ray cluster to place its hosts"
        )
        tp.stop_training_job(TrainingJobName="ray-room")
        description = tp.wait_for_training_job("ray-room", timeout=120)
        assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == ("Stopped", "Stopped")
        assert ray.util.placement_group_table() == {} or all(
            group["state"] == "REMOVED" for group in ray.util.placement_group_table().values()
        )
