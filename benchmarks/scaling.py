"""Built-in XGBoost, 1 instance vs 2 instances (ShardedByS3Key), one core per instance.

    .venv/bin/python benchmarks/scaling.py [--rows 2000000] [--rounds 50]

2M generated rows (16 features, a non-linear target) in 8 Parquet objects; validation 100k rows,
FullyReplicated. Each instance gets one thread: the catalog has no 1-vCPU type, so the jobs run on
ml.m5.large with ``nthread=1`` and TRAINPLANE_OVERSUBSCRIPTION=2 (two ml.m5.large fit on 2 cores).
T = TrainingEndTime - TrainingStartTime (staging + load + boosting). Efficiency = T1 / (2 x T2).
Goals: efficiency >= 0.85, final validation:rmse of both within 1e-3.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trainplane import TrainPlane

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def write_parts(directory: Path, rows: int, parts: int, seed: int) -> str:
    directory.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for part in range(parts):
        n = rows // parts
        x = rng.normal(size=(n, 16)).astype(np.float32)
        y = x[:, :8].sum(axis=1) + np.sin(3 * x[:, 8]) * x[:, 9] + rng.normal(scale=0.1, size=n)
        columns = {"label": y.astype(np.float32), **{f"f{i}": x[:, i] for i in range(16)}}
        pq.write_table(pa.table(columns), directory / f"part-{part}.parquet")
    return f"file://{directory}/"


def request(name: str, out: Path, train: str, validation: str, count: int, rounds: int) -> dict[str, Any]:
    def channel(channel_name: str, uri: str, distribution: str) -> dict[str, Any]:
        source = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
        return {"ChannelName": channel_name, "DataSource": {"S3DataSource": source},
                "ContentType": "application/x-parquet"}  # fmt: skip

    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": {
            "num_round": str(rounds),
            "max_depth": "6",
            "eta": "0.3",
            "nthread": "1",
            "tree_method": "hist",
            "objective": "reg:squarederror",
        },
        "InputDataConfig": [
            channel("train", train, "ShardedByS3Key"),
            channel("validation", validation, "FullyReplicated"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"file://{out}"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": count, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def run(tp: TrainPlane, job: dict[str, Any]) -> tuple[float, float]:
    tp.create_training_job(**job)
    description = tp.wait_for_training_job(job["TrainingJobName"], timeout=3600)
    if description["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"{job['TrainingJobName']}: {description.get('FailureReason')}")
    seconds = (description["TrainingEndTime"] - description["TrainingStartTime"]).total_seconds()
    metrics = {m["MetricName"]: m["Value"] for m in description["FinalMetricDataList"]}
    return seconds, metrics["validation:rmse"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train = write_parts(root / "train", args.rows, 8, 0)
        validation = write_parts(root / "validation", 100_000, 1, 1)
        environ = {"TRAINPLANE_HOME": str(root / "home"), "TRAINPLANE_OVERSUBSCRIPTION": "2"}
        with TrainPlane(environ=environ) as tp:
            t1, m1 = run(tp, request("scale-1", root / "out", train, validation, 1, args.rounds))
            t2, m2 = run(tp, request("scale-2", root / "out", train, validation, 2, args.rounds))
    print(f"rows={args.rows} rounds={args.rounds}")
    print(f"1 instance : {t1:7.1f} s  validation:rmse {m1:.6f}")
    print(f"2 instances: {t2:7.1f} s  validation:rmse {m2:.6f}")
    print(
        f"efficiency T1/(2 x T2) = {t1 / (2 * t2):.3f} (goal >= 0.85); "
        f"|rmse diff| = {abs(m1 - m2):.2e} (goal <= 1e-3)"
    )


if __name__ == "__main__":
    main()
