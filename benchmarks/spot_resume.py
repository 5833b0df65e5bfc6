"""spot_resume: built-in XGBoost (500 rounds; per-round checkpoints only, then with the notice-time save)
and Linear Learner (30 epochs) under three scripted spot interruptions, against the same job
uninterrupted, through the real machinery (local executor).

    .venv/bin/python benchmarks/spot_resume.py [--rounds 500] [--epochs 30] [--rows 20000] [--no-results]

Each job runs via ``trainplane.cli.spot.spot_test``: once on-demand, once as a managed spot job
interrupted at 1/4, 2/4 and 3/4 of its rounds/epochs (a step schedule; SIGTERM, 10 s notice, then a
kill), with CheckpointConfig synced to the local object store. XGBoost runs twice: with the container's
default (the process dies at SIGTERM; every round was checkpointed before its metric line) and with
``save_model_on_termination=true`` (the notice-time save: the round in progress is finished and
checkpointed, the model saved, and the agent's final checkpoint flush uploads it before the attempt
ends). Reported: steps re-done per interruption (steps reached before the notice minus the step the
next attempt resumed after), the notice-time saves seen in the log, seconds from each notice to the
end of its attempt, wall-time overhead, training vs billable seconds (ml.m5.large, cpu spot fraction
0.30) and the final metrics of both runs. Goals: re-done work <= one checkpoint interval (XGBoost and
Linear Learner checkpoint every round/epoch: <= 1), zero with the notice-time save; XGBoost final
metric identical to the uninterrupted run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import make_classification

from trainplane import TrainPlane
from trainplane.cli.spot import spot_test

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
LINEAR_LEARNER_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_data(folder: Path, rows: int) -> None:
    x, y = make_classification(n_samples=rows, n_features=20, n_informative=10, random_state=0)
    split = int(rows * 0.8)
    for name, part in (("train", slice(0, split)), ("validation", slice(split, rows))):
        (folder / name).mkdir(parents=True, exist_ok=True)
        np.savetxt(folder / name / "data.csv", np.column_stack([y[part], x[part]]), delimiter=",", fmt="%.7g")


def request(folder: Path, name: str, image: str, hps: dict[str, str]) -> dict[str, Any]:
    def channel(channel_name: str) -> dict[str, Any]:
        source = {"S3DataType": "S3Prefix", "S3Uri": f"file://{folder}/{channel_name}/"}
        return {
            "ChannelName": channel_name,
            "ContentType": "text/csv",
            "DataSource": {"S3DataSource": source},
        }

    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": hps,
        "InputDataConfig": [channel("train"), channel("validation")],
        "OutputDataConfig": {"S3OutputPath": f"file://{folder}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
        "CheckpointConfig": {"S3Uri": "s3://spot-resume/checkpoints"},
    }


def notice_timing(tp: TrainPlane, name: str) -> tuple[int, list[float]]:
    """Notice-time saves logged by the job, and seconds from each notice to the end of its attempt."""
    saves = sum("Training stopped by SIGTERM after round" in e.message for e in tp.log_events(name))
    description = tp.describe_training_job(TrainingJobName=name)
    notices = [
        t["StartTime"].timestamp()
        for t in description["SecondaryStatusTransitions"]
        if t["Status"] == "Interrupted"
    ]
    ends = [a.end_time for a in tp._platform.store.attempts(name) if a.status == "interrupted"]
    return saves, [round(end - notice, 1) for notice, end in zip(notices, ends, strict=False) if end]


def row(label: str, metric: str, report: dict[str, Any], notices: tuple[int, list[float]]) -> list[str]:
    base, spot = report["uninterrupted"], report["spot"]
    before, after = base["final_metrics"].get(metric), spot["final_metrics"].get(metric)
    return [
        label,
        str(len(spot["attempts"]) - 1),
        ", ".join(str(r) for r in report["redone_steps"]),
        str(notices[0]),
        ", ".join(f"{s:.1f}" for s in notices[1]) or "-",
        f"{base['wall_seconds']:.1f}",
        f"{spot['wall_seconds']:.1f}",
        f"{report['wall_overhead_percent']:+.0f} %",
        f"{spot['cost']['TrainingTimeInSeconds']} / {spot['cost']['BillableTimeInSeconds']}",
        f"{spot['cost']['SavingsPercent']:.0f} %",
        f"{metric} {before:.6g} / {after:.6g}" if before is not None and after is not None else "-",
        "yes" if before == after else f"no (diff {abs((after or 0) - (before or 0)):.2g})",
        "yes" if report["resumed"] else "NO",
    ]


HEADER = [
    "job",
    "interruptions",
    "re-done steps",
    "notice-time saves",
    "notice -> attempt end s",
    "wall s uninterrupted",
    "wall s spot",
    "wall overhead",
    "spot training / billable s",
    "billable savings",
    "final metric uninterrupted / spot",
    "identical",
    "resumed",
]


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def save_section(name: str, body: str) -> None:
    """Replace this benchmark's own section of RESULTS.md in place (or append it); others stay."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    heading = f"## {name}\n"
    section = heading + "\n" + body.strip() + "\n"
    if heading not in text:
        RESULTS.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    rest = "\n" + text[end + 1 :] if end >= 0 else ""
    RESULTS.write_text(text[:start] + section + rest)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--no-results", action="store_true", help="print only, do not update RESULTS.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="spot-resume-"))
    try:
        write_data(work, args.rows)
        environ = {"TRAINPLANE_HOME": str(work / "home"), "TRAINPLANE_SPOT_NOTICE_SECONDS": "10"}
        xgb_hps = {
            "num_round": str(args.rounds),
            "objective": "binary:logistic",
            "max_depth": "6",
            "eta": "0.05",
        }
        ll_hps = {
            "predictor_type": "binary_classifier",
            "epochs": str(args.epochs),
            "mini_batch_size": "200",
            "early_stopping_patience": str(args.epochs),
        }
        notice_hps = {**xgb_hps, "save_model_on_termination": "true"}
        rows = []
        with TrainPlane(environ=environ) as tp:
            for name, label, image, hps, metric in (
                ("xgb", f"XGBoost num_round={args.rounds}", XGBOOST_IMAGE, xgb_hps, "validation:logloss"),
                (
                    "xgb-notice",
                    f"XGBoost num_round={args.rounds}, save_model_on_termination (notice-time save)",
                    XGBOOST_IMAGE,
                    notice_hps,
                    "validation:logloss",
                ),
                (
                    "ll",
                    f"Linear Learner epochs={args.epochs}",
                    LINEAR_LEARNER_IMAGE,
                    ll_hps,
                    "validation:objective_loss",
                ),
            ):
                report = spot_test(tp, request(work, name, image, hps), 3, None)
                rows.append(row(label, metric, report, notice_timing(tp, f"{name}-spot")))
                print(f"{label}: schedule {report['schedule']}", flush=True)
        table = markdown(rows)
        print(table)
        if not args.no_results:
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
            load = os.getloadavg()[0]
            intro = (
                f"`benchmarks/spot_resume.py --rounds {args.rounds} --epochs {args.epochs} "
                f"--rows {args.rows}`, {stamp}; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                f"1-minute load average {load:.1f} (shared machine: wall times are noisy). "
                "Three interruptions at 1/4, 2/4, 3/4 of the steps, 10 s notice. "
                "Goals: re-done work <= one checkpoint interval (1 round / 1 epoch), zero with the "
                "notice-time save; XGBoost final metric identical to the uninterrupted run."
            )
            save_section("spot_resume", intro + "\n\n" + table)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
