"""spot_sim: a 10-hour training job on spot capacity, simulated through the real reconciler.

    .venv/bin/python benchmarks/spot_sim.py [--hours 10] [--tick 120] [--no-results]

``trainplane.executors.simulated`` replaces processes by a model of a checkpointing job (periodic
checkpoints every 30 min of work, 60 s to provision and download per attempt, 10 s for a notice-time
checkpoint) and a fake clock, so a 10-hour job takes seconds. The store, the reconciler (notices,
120 s grace, capacity waits, MaxWait, on-demand fallback) and the billing are the real ones.

Scenarios, for ml.m5.xlarge, ml.p3.2xlarge and ml.r5.16xlarge:
* sources: the bundled availability trace ``aws-p3.2xlarge-us-west-2b-availability-2023-02`` (one
  instance needed; random offset, seed 3), and Poisson notices at the type's rate from ``spot/rates.py``
  with exponential outages of mean 30 min (seed 7);
* variants: periodic checkpoints only; plus a checkpoint at the notice; plus on-demand fallback.
MaxRuntime and MaxWait are both 2x the work. Reported: wall time, billed dollars, savings against the same
job on on-demand capacity (simulated too), attempts, and the final status.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from trainplane.executors.simulated import Simulation
from trainplane.service.describe import job_cost

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spot_resume import save_section

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TYPES = ("ml.m5.xlarge", "ml.p3.2xlarge", "ml.r5.16xlarge")
TRACE = {"type": "trace", "name": "aws-p3.2xlarge-us-west-2b-availability-2023-02", "seed": 3}
POISSON = {"type": "poisson", "seed": 7, "outage_mean_seconds": 1800}
VARIANTS = {
    "periodic checkpoints": {},
    "+ notice checkpoint": {"sim_save_on_notice": "true"},
    "+ notice checkpoint + on-demand fallback": {"sim_save_on_notice": "true", "fallback": "true"},
}


def request(
    name: str, home: Path, instance_type: str, work: int, source: Any, extra: dict[str, str]
) -> dict[str, Any]:
    spot = source is not None
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": 2 * work}
    environment = {}
    if spot:
        stopping["MaxWaitTimeInSeconds"] = 2 * work  # must be >= MaxRuntimeInSeconds
        environment["TRAINPLANE_SPOT_INTERRUPTIONS"] = json.dumps(source)
        if extra.get("fallback"):
            environment["TRAINPLANE_SPOT_ON_DEMAND_FALLBACK"] = "true"
    hps = {"sim_work_seconds": str(work), "sim_checkpoint_seconds": "1800", "sim_save_seconds": "10"}
    hps.update({k: v for k, v in extra.items() if k.startswith("sim_")})
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": hps,
        "OutputDataConfig": {"S3OutputPath": f"file://{home}/output"},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": stopping,
        "EnableManagedSpotTraining": spot,
        "CheckpointConfig": {"S3Uri": f"s3://sim/{name}"},
        **({"Environment": environment} if environment else {}),
    }


def run(sim: Simulation, req: dict[str, Any]) -> dict[str, Any]:
    description = sim.run(req)
    job = sim.store.get_training_job(req["TrainingJobName"])
    assert job is not None
    cost = job_cost(job, sim.store, sim.clock.now())
    end = description.get("TrainingEndTime") or description["LastModifiedTime"]
    return {
        "status": f"{description['TrainingJobStatus']}/{description['SecondaryStatus']}",
        "wall_hours": (end - description["CreationTime"]).total_seconds() / 3600,
        "cost": cost.cost_usd or 0.0,
        "attempts": len(sim.store.attempts(req["TrainingJobName"])),
        "fallback": any(not a.spot for a in sim.store.attempts(req["TrainingJobName"]))
        and req["EnableManagedSpotTraining"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=float, default=10)
    parser.add_argument("--tick", type=float, default=120, help="fake seconds per reconciler tick")
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    work = int(args.hours * 3600)
    home = Path(tempfile.mkdtemp(prefix="spot-sim-"))
    environ = {"TRAINPLANE_SPOT_NOTICE_SECONDS": "120", "TRAINPLANE_STOP_GRACE_SECONDS": "120"}
    sim = Simulation(home / "home", environ, tick_seconds=args.tick)
    rows = []
    try:
        for instance_type in TYPES:
            slug = instance_type[3:].replace(".", "-")
            base = run(sim, request(f"od-{slug}", home, instance_type, work, None, {}))
            rows.append(
                [
                    instance_type,
                    "on-demand",
                    "-",
                    base["status"],
                    f"{base['wall_hours']:.2f}",
                    f"${base['cost']:.2f}",
                    "0 %",
                    str(base["attempts"]),
                ]
            )
            for source_name, source in (("trace", TRACE), ("poisson", POISSON)):
                for index, (variant, extra) in enumerate(VARIANTS.items()):
                    name = f"{source_name}-{index}-{slug}"
                    result = run(sim, request(name, home, instance_type, work, source, extra))
                    savings = 100 * (1 - result["cost"] / base["cost"]) if base["cost"] else 0.0
                    attempts = f"{result['attempts']}" + (" (last on-demand)" if result["fallback"] else "")
                    rows.append(
                        [
                            instance_type,
                            source_name,
                            variant,
                            result["status"],
                            f"{result['wall_hours']:.2f}",
                            f"${result['cost']:.2f}",
                            f"{savings:.0f} %",
                            attempts,
                        ]
                    )
                    print(" | ".join(rows[-1]), flush=True)
    finally:
        sim.close()
        shutil.rmtree(home, ignore_errors=True)
    header = [
        "instance type",
        "capacity",
        "checkpoints",
        "final status",
        "wall h",
        "billed",
        "savings vs on-demand",
        "attempts",
    ]
    table = "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(r) + " |" for r in rows]
    )
    print(table)
    if not args.no_results:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        intro = (
            f"`benchmarks/spot_sim.py --hours {args.hours:g} --tick {args.tick:g}`, {stamp}. "
            f"A {args.hours:g}-hour job (checkpoint every 30 min of work, 60 s provisioning per attempt, "
            "120 s notice) on the simulated executor and a fake clock through the real reconciler; "
            "MaxRuntime and MaxWait both 2x the work. "
            f"Trace: `{TRACE['name']}` (seed 3 picks the offset); "
            "Poisson: the type's rate from `spot/rates.py` "
            "(m5 0.2/h, p3 0.3/h, r5 1.3/h), outages exponential with mean 30 min. Wall time runs from "
            "CreationTime to TrainingEndTime, resolution one tick."
        )
        save_section("spot_sim", intro + "\n\n" + table)


if __name__ == "__main__":
    main()
