"""A no-op script-mode job on the Ray executor vs the local executor, and a node lost mid-job.

    .venv/bin/python benchmarks/ray_overhead.py [--repeats 3]

Starts a 2-node Ray cluster on this machine (ray.cluster_utils.Cluster, loopback, 2 logical CPUs and
9 GiB per node; the head has no CPUs). Latency = CreateTrainingJob -> Completed, wall clock, median of
the repeats; the extra launch latency of Ray is the difference (goal <= 2 s). Then a managed spot job
(CheckpointConfig, a script that checkpoints every 0.5 s step, 40 steps) has its node removed after
step 5: reported are the seconds from the removal to the Interrupted status, to the new attempt's
launch, to its checkpoints being restored, to the script's first line (resumed from which step), and
to Completed. Goal: resume <= 15 s plus the checkpoint restore.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from jobs_helpers import script_job
from trainplane import TrainPlane

GIB = 2**30
NODE: dict[str, Any] = {
    "node_ip_address": "127.0.0.1",
    "object_store_memory": 80 * 2**20,
    "include_dashboard": False,
}
NOOP = "print('noop', flush=True)\n"
STEPS = 40
STEPPING = f"""
import glob, json, os, time
folder = json.load(open("/opt/ml/input/config/checkpointconfig.json"))["LocalPath"]
done = sorted(glob.glob(os.path.join(folder, "step-[0-9][0-9][0-9]")))
start = int(done[-1][-3:]) if done else 0
print(f"resumed-from {{start}}", flush=True)
for step in range(start + 1, {STEPS} + 1):
    time.sleep(0.5)
    path = os.path.join(folder, f"step-{{step:03d}}")
    with open(path + ".sagemaker-ignore", "w") as f:
        f.write(str(step))
    os.replace(path + ".sagemaker-ignore", path)
    print(f"trainplane-step: {{step}}", flush=True)
"""


def latency(tp: TrainPlane, tmp: Path, name: str) -> float:
    started = time.monotonic()
    tp.create_training_job(**script_job(name, tmp, NOOP))
    description = tp.wait_for_training_job(name, timeout=300)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    return time.monotonic() - started


def node_loss(tp: TrainPlane, cluster: Any, tmp: Path) -> dict[str, Any]:
    """A spot job's node removed after step 5: seconds from the removal to each step of the resume."""
    import ray

    store = tp._platform.store
    (tp.settings.local_s3_root / "checkpoints").mkdir(parents=True, exist_ok=True)
    request = script_job(
        "lost",
        tmp,
        STEPPING,
        EnableManagedSpotTraining=True,
        CheckpointConfig={"S3Uri": "s3://checkpoints/lost"},
        StoppingCondition={"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 900},
    )
    tp.create_training_job(**request)
    while not any(e.message == "trainplane-step: 5" for e in tp.log_events("lost")):
        time.sleep(0.1)
    record = store.attempts("lost")[-1].hosts[0]
    actor: Any = ray.get_actor(record["actor"], namespace="trainplane")
    node_id = ray.get(actor.status.remote())["node"]
    removed = time.time()
    cluster.remove_node(next(n for n in cluster.list_all_nodes() if n.node_id == node_id))
    description = tp.wait_for_training_job("lost", timeout=300)
    attempts = store.attempts("lost")
    notice = next(t for t in description["SecondaryStatusTransitions"] if t["Status"] == "Interrupted")
    second = [e for e in tp.log_events("lost") if e.timestamp >= attempts[-1].launch_time]
    restored = next((e for e in second if e.message.startswith("Restored ")), None)
    first = next(e for e in second if e.message.startswith("resumed-from "))
    return {
        "status": description["TrainingJobStatus"],
        "attempts": [a.status for a in attempts],
        "interrupted": notice["StartTime"].timestamp() - removed,
        "relaunched": attempts[-1].launch_time - removed,
        "restored": None if restored is None else restored.timestamp - removed,
        "restore_seconds": None if restored is None else restored.timestamp - (attempts[-1].start_time or 0),
        "resumed": first.timestamp - removed,
        "resumed_from": int(first.message.split()[1]),
        "steps_before": 5,
        "completed": (description["TrainingEndTime"].timestamp() - removed),
    }


def main() -> None:
    from ray.cluster_utils import Cluster

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import ray

    cluster = Cluster(initialize_head=True, head_node_args={**NODE, "num_cpus": 0})
    ray.init(address=cluster.address, namespace="trainplane")  # the driver on the head, never removed
    for _ in range(2):
        cluster.add_node(**NODE, num_cpus=2, memory=9 * GIB)
    cluster.wait_for_nodes()
    results: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for executor in ("local", "ray"):
                environ = {"TRAINPLANE_HOME": str(root / executor), "TRAINPLANE_EXECUTOR": executor,
                           "TRAINPLANE_RAY_ADDRESS": cluster.address}  # fmt: skip
                with TrainPlane(environ=environ) as tp:
                    latency(tp, root, f"warm-{executor}")  # imports, first worker process
                    results[executor] = [latency(tp, root, f"{executor}-{i}") for i in range(args.repeats)]
                    if executor == "ray":
                        lost = node_loss(tp, cluster, root)
    finally:
        ray.shutdown()
        cluster.shutdown()
    local, ray_ = (statistics.median(results[k]) for k in ("local", "ray"))
    print(f"no-op job, median of {args.repeats}: local {local:.2f} s, ray {ray_:.2f} s")
    print(f"extra launch latency on Ray: {ray_ - local:+.2f} s (goal <= 2 s)")
    print(f"node removed mid-job (spot job): {lost['status']}, attempts {lost['attempts']}")
    for key in ("interrupted", "relaunched", "restored", "resumed", "completed"):
        value = lost[key]
        print(f"  removal -> {key}: " + ("-" if value is None else f"{value:.1f} s"))
    restore = "-" if lost["restore_seconds"] is None else f"{lost['restore_seconds']:.1f} s"
    print(f"  restore (attempt start -> checkpoints restored): {restore}")
    print(f"  resumed from step {lost['resumed_from']} (step {lost['steps_before']} reached before removal)")


if __name__ == "__main__":
    main()
