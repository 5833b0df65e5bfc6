"""``trainplane tune SPEC`` (foreground, with a live leaderboard) and ``trainplane tuning ...``."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from trainplane.cli import output
from trainplane.cli.progress import TuningProgress
from trainplane.client import TrainPlane
from trainplane.errors import TrainplaneError, ValidationError

TERMINAL = ("Completed", "Failed", "Stopped")
# The API's enums (botocore's model; tests/cli/test_tuning_commands.py checks they still match it).
TUNING_STATUSES = ("Completed", "InProgress", "Failed", "Stopped", "Stopping", "Deleting", "DeleteFailed")
CHILD_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")
CHILD_SORT_BY = ("Name", "CreationTime", "Status", "FinalObjectiveMetricValue")
SORT_ORDERS = ("Ascending", "Descending")
REFRESH_SECONDS = 0.5


def add_parsers(commands: Any) -> None:
    tune = commands.add_parser("tune", help="run a CreateHyperParameterTuningJob request (JSON or YAML)")
    tune.add_argument("spec", type=Path)
    tune.add_argument("--name", help="override HyperParameterTuningJobName")
    tune.add_argument(
        "--top", type=output.positive_int, default=10, help="rows of the leaderboard (default 10)"
    )
    tuning = commands.add_parser("tuning", help="inspect and manage tuning jobs").add_subparsers(
        dest="action", required=True
    )
    listing = tuning.add_parser("list")
    listing.add_argument("--status", choices=TUNING_STATUSES)
    listing.add_argument("--name-contains")
    listing.add_argument("--max-results", type=output.positive_int, default=50)
    listing.add_argument("--output", choices=["table", "json"], default="table")
    describe = tuning.add_parser("describe")
    describe.add_argument("name")
    describe.add_argument("--output", choices=["table", "json"], default="table")
    jobs = tuning.add_parser("jobs", help="the tuning job's training jobs")
    jobs.add_argument("name")
    jobs.add_argument("--sort-by", choices=CHILD_SORT_BY, help="default Name")
    jobs.add_argument("--sort-order", choices=SORT_ORDERS, help="default Ascending")
    jobs.add_argument("--status", choices=CHILD_STATUSES, help="only training jobs in this status")
    jobs.add_argument("--output", choices=["table", "json"], default="table")
    stop = tuning.add_parser("stop")
    stop.add_argument("name")
    stop.add_argument("--no-wait", action="store_true", help="return once the stop is recorded")
    delete = tuning.add_parser("delete", help="delete a terminal tuning job (its training jobs stay)")
    delete.add_argument("name")


def leaderboard(client: TrainPlane, name: str, top: int) -> Table:
    description = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    return leaderboard_table(description, all_children(client, name), top)


def leaderboard_table(description: dict[str, Any], jobs: list[dict[str, Any]], top: int) -> Table:
    """The ``top`` best children under a title with the tuning job's status and counters."""
    ranked = sorted(jobs, key=_rank_key(description))[:top]
    title = f"{description['HyperParameterTuningJobName']}: {description['HyperParameterTuningJobStatus']}  "
    return children_table(ranked, title + output.counters(description["TrainingJobStatusCounters"]))


def _rank_key(description: dict[str, Any]) -> Any:
    maximize = _objective_type(description) == "Maximize"

    def key(item: dict[str, Any]) -> tuple[int, float, str]:
        metric = item.get("FinalHyperParameterTuningJobObjectiveMetric")
        if metric is None:
            return (1, 0.0, item["TrainingJobName"])
        return (0, -metric["Value"] if maximize else metric["Value"], item["TrainingJobName"])

    return key


def _objective_type(description: dict[str, Any]) -> str:
    config = description["HyperParameterTuningJobConfig"]
    objective = (
        config.get("HyperParameterTuningJobObjective")
        or description["TrainingJobDefinitions"][0]["TuningObjective"]
    )
    return str(objective["Type"])


def all_children(client: TrainPlane, name: str, **filters: str) -> list[dict[str, Any]]:
    """Every page of ListTrainingJobsForHyperParameterTuningJob (``filters``: SortBy, SortOrder,
    StatusEquals)."""
    items, token = [], None
    while True:
        page = client.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name,
            MaxResults=100,
            **filters,
            **({"NextToken": token} if token else {}),
        )
        items += page["TrainingJobSummaries"]
        token = page.get("NextToken")
        if not token:
            return items


def children_table(items: list[dict[str, Any]], title: str | None = None) -> Table:
    table = Table(box=None, header_style="bold", title=title, title_justify="left")
    # Only multi-definition jobs name each child's definition; there the column tells the rows apart.
    by_definition = any("TrainingJobDefinitionName" in item for item in items)
    columns = ("TRAINING JOB", "DEFINITION") if by_definition else ("TRAINING JOB",)
    for column in (*columns, "STATUS", "OBJECTIVE", "HYPERPARAMETERS"):
        table.add_column(column)
    for item in items:
        metric = item.get("FinalHyperParameterTuningJobObjectiveMetric")
        tuned = ", ".join(
            f"{k}={output.short_value(v)}" for k, v in sorted(item["TunedHyperParameters"].items())
        )
        value = f"{metric['Value']:.6g}" if metric else "-"
        definition = (item.get("TrainingJobDefinitionName", "-"),) if by_definition else ()
        table.add_row(item["TrainingJobName"], *definition, item["TrainingJobStatus"], value, tuned)
    return table


def run_tune(client: TrainPlane, request: dict[str, Any], console: Console, top: int) -> int:
    """Create the tuning job and show its progress until it ends; 0 only if it Completed.

    On a terminal, a leaderboard redrawn in place; elsewhere (a pipe, a file, CI) plain progress lines and
    the final leaderboard once. Either way the last table shown is drawn from the final description."""
    name = request.get("HyperParameterTuningJobName", "")
    arn = client.create_hyper_parameter_tuning_job(**request)["HyperParameterTuningJobArn"]
    console.print(f"Created {arn}")
    if console.is_terminal:
        with Live(console=console, auto_refresh=False) as live:
            description, jobs = _follow(
                client, name, console, lambda d, j: live.update(leaderboard_table(d, j, top), refresh=True)
            )
    else:
        description, jobs = _follow(client, name, console, TuningProgress(console).update)
        console.print(leaderboard_table(description, jobs, top))
    return _report_end(description, console)


def _follow(
    client: TrainPlane,
    name: str,
    console: Console,
    show: Callable[[dict[str, Any], list[dict[str, Any]]], None],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Poll the tuning job until it ends, showing each snapshot; the first Ctrl-C stops it."""
    interrupted = False
    while True:
        try:
            description = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
            jobs = all_children(client, name)  # after the description: final when it is terminal
            show(description, jobs)
            if description["HyperParameterTuningJobStatus"] in TERMINAL:
                return description, jobs
            time.sleep(REFRESH_SECONDS)
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            console.print("Stopping the tuning job (Ctrl-C again to stop waiting for it)...")
            with contextlib.suppress(TrainplaneError):
                client.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)


def _report_end(description: dict[str, Any], console: Console) -> int:
    status = description["HyperParameterTuningJobStatus"]
    best = description.get("BestTrainingJob")
    if best is not None:
        metric = best.get("FinalHyperParameterTuningJobObjectiveMetric", {})
        console.print(f"Best: {best['TrainingJobName']} {metric.get('MetricName')}={metric.get('Value')}")
    ending = description.get("TrainplaneCompletionReason")
    if ending is not None and status != "Failed":
        console.print(ending["Message"])
    if status == "Completed":
        console.print(f"Completed {description['HyperParameterTuningJobName']}.")
        return 0
    reason = description.get("FailureReason")
    print(
        f"trainplane: tuning job {description['HyperParameterTuningJobName']} {status}"
        + (f": {output.one_line(reason)}" if reason else ""),
        file=sys.stderr,
    )
    return 1


def run_tuning(args: argparse.Namespace, client: TrainPlane, console: Console) -> int:
    if args.action == "list":
        request = output.list_request(args, SortBy="CreationTime")
        summaries = output.list_up_to(
            client.list_hyper_parameter_tuning_jobs,
            "HyperParameterTuningJobSummaries",
            request,
            args.max_results,
        )
        if args.output == "json":
            output.print_json({"HyperParameterTuningJobSummaries": summaries})
        else:
            console.print(tuning_table(summaries))
        return 0
    if args.action == "describe":
        description = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=args.name)
        if args.output == "json":
            output.print_json(description)
        else:
            console.print(leaderboard(client, args.name, top=10))
            ending = description.get("TrainplaneCompletionReason")
            if ending is not None:
                console.print(f"Ended by: {ending['Message']}")
        return 0
    if args.action == "delete":
        client.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=args.name)
        console.print(f"Deleted {args.name}")
        return 0
    filters = {"SortBy": args.sort_by, "SortOrder": args.sort_order, "StatusEquals": args.status}
    items = all_children(client, args.name, **{k: v for k, v in filters.items() if v})
    if args.output == "json":
        output.print_json({"TrainingJobSummaries": items})
    else:
        console.print(children_table(items))
    return 0


def stop_tuning(args: argparse.Namespace, client: TrainPlane, console: Console) -> int:
    """Stop the tuning job; one already Stopping is not an error (a repeated stop is harmless)."""
    try:
        client.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=args.name)
    except ValidationError:
        status = client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=args.name)
        if status["HyperParameterTuningJobStatus"] != "Stopping":
            raise
        console.print(f"{args.name} is already stopping.")
    if args.no_wait:
        return 0
    description = client.wait_for_tuning_job(args.name)
    console.print(f"{args.name}: {description['HyperParameterTuningJobStatus']}")
    return 0


def tuning_table(summaries: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("NAME", "STATUS", "STRATEGY", "JOBS", "CREATED", "ENDED"):
        table.add_column(column)
    for item in summaries:
        counters = item["TrainingJobStatusCounters"]
        table.add_row(
            item["HyperParameterTuningJobName"],
            item["HyperParameterTuningJobStatus"],
            item["Strategy"],
            str(sum(counters.values())),
            output.short_time(item.get("CreationTime")),
            output.short_time(item.get("HyperParameterTuningEndTime")),
        )
    return table
