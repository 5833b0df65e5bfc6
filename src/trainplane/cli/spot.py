"""``trainplane jobs cost`` and ``trainplane spot-test``: what spot saves, and whether a job survives it.

``spot-test SPEC`` runs the CreateTrainingJob request twice on this machine: once uninterrupted
(on-demand) and once as a managed spot job under N evenly spaced interruptions (or a given
``parse_source`` schedule), each with a fresh checkpoint prefix. It reports, per interruption, the
step reached and the step the next attempt resumed from (the work re-done), the final metrics of both
runs, wall time, billable time and dollars. It exits 1 when the job did not resume from its
checkpoints (a restart restored nothing, or started again from step 1) or did not complete.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from trainplane.client import TrainPlane
from trainplane.control.spot import SOURCE_KEY, step_of
from trainplane.control.supervision import attempt_stream
from trainplane.runtime.metrics import escape_for_scanning
from trainplane.service.describe import job_cost
from trainplane.spot.billing import CostReport


def add_parsers(commands: Any, jobs: Any) -> None:
    cost = jobs.add_parser("cost", help="training vs billable seconds, spot savings and dollars")
    cost.add_argument("name", nargs="?", help="one job (default: every job)")
    cost.add_argument("--output", choices=["table", "json"], default="table")
    test = commands.add_parser("spot-test", help="run a job under spot interruptions and check it resumes")
    test.add_argument("spec", type=Path)
    how = test.add_mutually_exclusive_group()
    how.add_argument("--interruptions", type=int, default=3, help="evenly spaced interruptions (default 3)")
    how.add_argument("--schedule", help='interruption source, e.g. \'{"type":"schedule","at_steps":[50]}\'')
    test.add_argument(
        "--notice-seconds", type=float, default=None, help="SIGTERM-to-kill grace (default 120)"
    )
    test.add_argument("--output", choices=["table", "json"], default="table")


# ------------------------------------------------------------------------------------------ cost
def cost_row(client: TrainPlane, name: str) -> dict[str, Any]:
    store = client.platform.store
    job = store.get_training_job(name)
    if job is None:
        client.describe_training_job(TrainingJobName=name)  # raises the API's not-found error
        raise AssertionError("unreachable")
    report = job_cost(job, store, time.time())
    return _cost_dict(name, report, spot=bool(job.request.get("EnableManagedSpotTraining")))


def _cost_dict(name: str, report: CostReport, spot: bool) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "Spot": spot,
        "TrainingTimeInSeconds": report.training_seconds,
        "BillableTimeInSeconds": report.billable_seconds,
        "SavingsPercent": round(report.savings_percent, 1),
        "CostUsd": None if report.cost_usd is None else round(report.cost_usd, 6),
        "OnDemandCostUsd": None if report.on_demand_cost_usd is None else round(report.on_demand_cost_usd, 6),
        "Attempts": report.attempts,
    }


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.4f}"


def run_cost(client: TrainPlane, args: argparse.Namespace, console: Console) -> int:
    names = [args.name] if args.name else [j.name for j in client.platform.store.list_training_jobs()]
    rows = [cost_row(client, name) for name in names]
    known = [r["CostUsd"] for r in rows]
    total = {
        "TrainingTimeInSeconds": sum(r["TrainingTimeInSeconds"] for r in rows),
        "BillableTimeInSeconds": sum(r["BillableTimeInSeconds"] for r in rows),
        "CostUsd": None if None in known else round(sum(known), 6),
        "OnDemandCostUsd": None if None in known else round(sum(r["OnDemandCostUsd"] for r in rows), 6),
    }
    if args.output == "json":
        print(json.dumps({"Jobs": rows, "Total": total}, indent=2))
        return 0
    table = Table(box=None, header_style="bold")
    for column in ("NAME", "SPOT", "TRAINING S", "BILLABLE S", "SAVINGS", "COST", "ON-DEMAND COST"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["TrainingJobName"],
            "yes" if r["Spot"] else "no",
            str(r["TrainingTimeInSeconds"]),
            str(r["BillableTimeInSeconds"]),
            f"{r['SavingsPercent']:.1f} %",
            _money(r["CostUsd"]),
            _money(r["OnDemandCostUsd"]),
        )
    table.add_row(
        "TOTAL",
        "",
        *(str(total[k]) for k in ("TrainingTimeInSeconds", "BillableTimeInSeconds")),
        "",
        _money(total["CostUsd"]),
        _money(total["OnDemandCostUsd"]),
    )
    console.print(table)
    return 0


def print_cost_line(client: TrainPlane, name: str, console: Console) -> None:
    """The extra line ``jobs describe`` prints after SageMaker's fields."""
    row = cost_row(client, name)
    if row["TrainingTimeInSeconds"]:
        console.print(
            f"Cost: {_money(row['CostUsd'])} (on-demand {_money(row['OnDemandCostUsd'])}; "
            f"savings {row['SavingsPercent']:.1f} %, {row['Attempts']} attempt(s))"
        )


# ------------------------------------------------------------------------------------- spot-test
@dataclass
class AttemptSteps:
    number: int
    status: str
    first_step: int | None
    last_step: int | None
    restored_files: int


@dataclass
class RunSummary:
    name: str
    status: str
    secondary: str
    wall_seconds: float
    cost: dict[str, Any]
    final_metrics: dict[str, float]
    attempts: list[AttemptSteps] = field(default_factory=list)

    @property
    def total_steps(self) -> int:
        return max((a.last_step or 0 for a in self.attempts), default=0)


def summarise(client: TrainPlane, name: str, started: float) -> RunSummary:
    description = client.describe_training_job(TrainingJobName=name)
    store = client.platform.store
    events = store.log_events(name)
    attempts = []
    for attempt in store.attempts(name):
        stream = attempt_stream(attempt, "algo-1")
        lines = [e.message for e in events if e.stream == stream]
        steps = [s for s in (step_of(escape_for_scanning(line)) for line in lines) if s is not None]
        restored = sum(int(line.split()[1]) for line in lines if line.startswith("Restored "))
        attempts.append(
            AttemptSteps(
                attempt.number, attempt.status, min(steps, default=None), max(steps, default=None), restored
            )
        )
    return RunSummary(
        name=name,
        status=description["TrainingJobStatus"],
        secondary=description["SecondaryStatus"],
        wall_seconds=round(time.time() - started, 2),
        cost=cost_row(client, name),
        final_metrics={m["MetricName"]: m["Value"] for m in description["FinalMetricDataList"]},
        attempts=attempts,
    )


def redone_steps(run: RunSummary) -> list[int | None]:
    """Per interruption: steps reached minus the step the next attempt resumed after."""
    result: list[int | None] = []
    for before, after in zip(run.attempts, run.attempts[1:], strict=False):
        if before.last_step is None or after.first_step is None:
            result.append(None)
        else:
            result.append(max(0, before.last_step - (after.first_step - 1)))
    return result


def resumed_correctly(run: RunSummary) -> bool:
    restarts = run.attempts[1:]
    return run.status == "Completed" and all(
        a.restored_files > 0 and (a.first_step is None or a.first_step > 1) for a in restarts
    )


def evenly_spaced(baseline: RunSummary, count: int) -> dict[str, Any]:
    steps = baseline.total_steps
    if steps > count:
        return {"type": "schedule", "at_steps": [round(steps * i / (count + 1)) for i in range(1, count + 1)]}
    wall = max(baseline.wall_seconds, float(count + 1))
    return {"type": "schedule", "at_seconds": [round(wall * i / (count + 1), 1) for i in range(1, count + 1)]}


def run_one(client: TrainPlane, request: dict[str, Any], timeout: float = 86400) -> RunSummary:
    started = time.time()
    client.create_training_job(**request)
    client.wait_for_training_job(request["TrainingJobName"], timeout=timeout, poll=0.2)
    return summarise(client, request["TrainingJobName"], started)


def variant(request: dict[str, Any], suffix: str, spot: dict[str, Any] | None) -> dict[str, Any]:
    """The request renamed, with its own checkpoint prefix; spot with ``spot`` as its source."""
    copy = json.loads(json.dumps(request))
    name = f"{request['TrainingJobName'][: 63 - len(suffix) - 1]}-{suffix}"
    copy["TrainingJobName"] = name
    checkpoint = copy.get("CheckpointConfig") or {"S3Uri": "s3://trainplane-spot-test/checkpoints"}
    copy["CheckpointConfig"] = {**checkpoint, "S3Uri": checkpoint["S3Uri"].rstrip("/") + f"/{name}"}
    stopping = copy.setdefault("StoppingCondition", {})
    if spot is None:
        copy["EnableManagedSpotTraining"] = False
        stopping.pop("MaxWaitTimeInSeconds", None)
    else:
        copy["EnableManagedSpotTraining"] = True
        runtime = int(stopping.get("MaxRuntimeInSeconds", 86400))
        stopping.setdefault("MaxWaitTimeInSeconds", max(2 * runtime, runtime + 3600))
        copy["Environment"] = {**copy.get("Environment", {}), SOURCE_KEY: json.dumps(spot)}
    return copy


def spot_test(
    client: TrainPlane, request: dict[str, Any], interruptions: int, schedule: Any
) -> dict[str, Any]:
    bucket = request.get("CheckpointConfig", {}).get("S3Uri", "s3://trainplane-spot-test/").split("/")[2]
    (client.settings.local_s3_root / bucket).mkdir(parents=True, exist_ok=True)
    baseline = run_one(client, variant(request, "uninterrupted", None))
    source = schedule if schedule is not None else evenly_spaced(baseline, interruptions)
    spot = run_one(client, variant(request, "spot", source))
    return {
        "schedule": source,
        "uninterrupted": asdict(baseline),
        "spot": asdict(spot),
        "redone_steps": redone_steps(spot),
        "resumed": resumed_correctly(spot),
        "wall_overhead_percent": round(100.0 * (spot.wall_seconds / max(baseline.wall_seconds, 1e-9) - 1), 1),
    }


def render(report: dict[str, Any], console: Console) -> None:
    base, spot = report["uninterrupted"], report["spot"]
    console.print(f"Interruptions: {json.dumps(report['schedule'])}")
    table = Table(box=None, header_style="bold")
    for column in ("", "UNINTERRUPTED", "SPOT"):
        table.add_column(column)
    table.add_row(
        "status", f"{base['status']} ({base['secondary']})", f"{spot['status']} ({spot['secondary']})"
    )
    table.add_row("attempts", str(len(base["attempts"])), str(len(spot["attempts"])))
    table.add_row("wall seconds", f"{base['wall_seconds']:.1f}", f"{spot['wall_seconds']:.1f}")
    for key in ("TrainingTimeInSeconds", "BillableTimeInSeconds"):
        table.add_row(key, str(base["cost"][key]), str(spot["cost"][key]))
    table.add_row("cost", _money(base["cost"]["CostUsd"]), _money(spot["cost"]["CostUsd"]))
    for metric in sorted(set(base["final_metrics"]) | set(spot["final_metrics"])):
        table.add_row(
            metric, *(f"{run['final_metrics'].get(metric, float('nan')):.6g}" for run in (base, spot))
        )
    console.print(table)
    for index, redone in enumerate(report["redone_steps"], start=1):
        before, after = spot["attempts"][index - 1], spot["attempts"][index]
        console.print(
            f"interruption {index}: reached step {before['last_step']}, attempt {after['number']} resumed at "
            f"step {after['first_step']} after restoring {after['restored_files']} file(s): re-done {redone}"
        )
    console.print("resumed from checkpoints: " + ("yes" if report["resumed"] else "NO"))


def run_spot_test(
    args: argparse.Namespace, request: dict[str, Any], client: TrainPlane, console: Console
) -> int:
    schedule = (
        json.loads(args.schedule)
        if args.schedule and args.schedule.strip().startswith("{")
        else args.schedule
    )
    report = spot_test(client, request, args.interruptions, schedule)
    if args.output == "json":
        print(json.dumps(report, indent=2))
    else:
        render(report, console)
    return 0 if report["resumed"] else 1
