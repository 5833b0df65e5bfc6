"""The Ray executor on a 2-node Ray cluster started on this machine (ray.cluster_utils.Cluster)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from jobs_helpers import script_job
from trainplane import ResourceLimitExceeded, TrainPlane
from trainplane.executors.ray import bundle_for

pytestmark = pytest.mark.slow
# Before ray is imported: keep every node (and the GCS) on the loopback interface.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
import ray  # noqa: E402 - after the environment variable above

GIB = 2**30


def test_importing_trainplane_does_not_import_ray() -> None:
    code = "import sys, trainplane, trainplane.platform, trainplane.cli.main; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_bundles_are_sized_from_the_instance_type() -> None:
    assert bundle_for("ml.m5.large", 2, 0, False) == {"CPU": 2.0, "memory": 8.0 * GIB}
    assert bundle_for("ml.g4dn.xlarge", 4, 1, True) == {
        "CPU": 4.0,
        "GPU": 1.0,
        "memory": 16.0 * GIB,
        "ml.g4dn.xlarge": 1.0,
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from ray.cluster_utils import Cluster

    node = {"node_ip_address": "127.0.0.1", "object_store_memory": 80 * 2**20, "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "num_cpus": 0})
    ray.init(address=cluster.address, namespace="trainplane")  # the driver on the head, never removed
    for _ in range(2):
        cluster.add_node(**node, num_cpus=2, memory=9 * GIB, resources={"ml.m5.large": 1})
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture
def tp(cluster: Any, tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {
        "TRAINPLANE_HOME": str(tmp_path / "home"),
        "TRAINPLANE_EXECUTOR": "ray",
        "TRAINPLANE_RAY_ADDRESS": cluster.address,
        "TRAINPLANE_RAY_REQUIRE_INSTANCE_RESOURCE": "true",
        "TRAINPLANE_STOP_GRACE_SECONDS": "5",
    }
    with TrainPlane(environ=environ) as client:
        yield client


HELLO = """
    import os, time
    print(f"hello from {os.environ['SM_CURRENT_HOST']} rank={os.environ['RANK']}", flush=True)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
        f.write(os.environ["SM_CURRENT_HOST"])
"""

DDP = """
    import os, torch, torch.distributed as dist
    dist.init_process_group("gloo")
    value = torch.tensor([float(dist.get_rank() + 1)])
    dist.all_reduce(value)
    print(f"{os.environ['SM_CURRENT_HOST']} rank={dist.get_rank()} sum={value.item():g}", flush=True)
    dist.destroy_process_group()
"""


def test_one_host_job_runs_in_a_ray_actor(tp: TrainPlane, tmp_path: Path) -> None:
    tp.create_training_job(**script_job("ray-one", tmp_path, HELLO))
    description = tp.wait_for_training_job("ray-one", timeout=180)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert "hello from algo-1 rank=0" in [e.message for e in tp.log_events("ray-one")]
    assert (tmp_path / "output" / "ray-one" / "output" / "model.tar.gz").exists()
    assert not ray.util.placement_group_table() or all(
        g["state"] == "REMOVED" for g in ray.util.placement_group_table().values()
    )


def test_a_job_larger_than_the_cluster_is_refused_in_the_clusters_terms(
    tp: TrainPlane, tmp_path: Path
) -> None:
    request = script_job("ray-huge", tmp_path, HELLO)
    request["ResourceConfig"] = {"InstanceType": "ml.m5.24xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1}
    with pytest.raises(ResourceLimitExceeded) as caught:
        tp.create_training_job(**request)
    assert "; the Ray cluster offers 4 vCPUs" in caught.value.message
    assert caught.value.message.endswith("Choose a smaller instance type or add nodes.")


def test_the_control_planes_object_store_credentials_reach_hosts_on_other_nodes(
    tp: TrainPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Set after the nodes started, as `server --s3 local` sets them in its own process only.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-of-the-control-plane")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    code = 'import os; print("key", os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SESSION_TOKEN"))'
    tp.create_training_job(**script_job("ray-keys", tmp_path, code))
    description = tp.wait_for_training_job("ray-keys", timeout=180)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert "key key-of-the-control-plane None" in [e.message for e in tp.log_events("ray-keys")]


def test_two_host_ddp_job_spreads_over_the_placement_group(tp: TrainPlane, tmp_path: Path) -> None:
    request = script_job("ray-two", tmp_path, DDP)
    request["ResourceConfig"] = {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}
    tp.create_training_job(**request)
    description = tp.wait_for_training_job("ray-two", timeout=180)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    messages = sorted(e.message for e in tp.log_events("ray-two") if " rank=" in e.message)
    assert messages == ["algo-1 rank=0 sum=3", "algo-2 rank=1 sum=3"]


SLEEPER = """
    import os, time
    print("ready", os.environ["SM_CURRENT_HOST"], flush=True)
    time.sleep(600)
"""


def test_removing_a_node_mid_job_ends_the_job_and_its_processes(
    tp: TrainPlane, cluster: Any, tmp_path: Path
) -> None:
    request = script_job("ray-lost", tmp_path, SLEEPER)
    request["ResourceConfig"] = {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}
    tp.create_training_job(**request)
    deadline = time.monotonic() + 120
    while sum(e.message.startswith("ready") for e in tp.log_events("ray-lost")) < 2:
        assert time.monotonic() < deadline, "the hosts never started"
        time.sleep(0.5)
    record = tp._platform.store.attempts("ray-lost")[-1].hosts[1]
    actor = ray.get_actor(record["actor"], namespace="trainplane")
    node_id = ray.get(actor.status.remote())["node"]
    node = next(n for n in cluster.list_all_nodes() if n.node_id == node_id)
    started = time.monotonic()
    cluster.remove_node(node)
    description = tp.wait_for_training_job("ray-lost", timeout=120)
    assert description["TrainingJobStatus"] == "Failed"
    assert time.monotonic() - started < 60
    agent_dirs = [h["agent_dir"] for h in tp._platform.store.attempts("ray-lost")[-1].hosts]
    time.sleep(2)
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any(d in " ".join(p.info["cmdline"] or []) for d in agent_dirs)
    ]
    assert not leftovers
    cluster.add_node(
        node_ip_address="127.0.0.1", object_store_memory=80 * 2**20, num_cpus=2, memory=9 * GIB,
        resources={"ml.m5.large": 1},
    )  # fmt: skip
