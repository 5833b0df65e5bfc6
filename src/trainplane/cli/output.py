"""Rendering results for people (tables) and for scripts (``--output json``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

PAGE_MAX = 100  # MaxResults of the List* operations


def one_line(text: str) -> str:
    """Errors are one line on stderr; multi-line reasons (the toolkit's) are joined."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def to_json(value: Any) -> str:
    """The SageMaker response shape as JSON; times as ISO 8601, as the AWS CLI prints them."""

    def default(item: Any) -> Any:
        if isinstance(item, datetime):
            return item.isoformat()
        raise TypeError(f"not JSON serialisable: {type(item).__name__}")

    return json.dumps(value, indent=2, default=default)


def print_json(value: Any, stream: TextIO | None = None) -> None:
    print(to_json(value), file=stream or sys.stdout)


def list_request(args: Any, **extra: Any) -> dict[str, Any]:
    """A List* request from the common `list` options (--status, --name-contains); ``list_up_to`` pages."""
    request: dict[str, Any] = {"SortOrder": "Descending", **extra}
    if args.status:
        request["StatusEquals"] = args.status
    if args.name_contains:
        request["NameContains"] = args.name_contains
    return request


def list_up_to(
    fetch: Callable[..., dict[str, Any]], key: str, request: dict[str, Any], limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` summaries (``--max-results``), following NextToken: the API returns at most 100
    a page, and a larger --max-results should not be cut to that silently."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    while len(items) < limit:
        page = fetch(
            **request, MaxResults=min(PAGE_MAX, limit - len(items)), **({"NextToken": token} if token else {})
        )
        items += page[key]
        token = page.get("NextToken")
        if not token:
            break
    return items


def positive_int(text: str) -> int:
    """argparse type of --max-results."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def counters(values: dict[str, int]) -> str:
    """TrainingJobStatusCounters as ``Completed=3  InProgress=1``, zeros left out."""
    return "  ".join(f"{k}={v}" for k, v in values.items() if v)


def short_value(value: str) -> str:
    """A hyperparameter's value for a table or a progress line: floats to 4 significant digits."""
    try:
        return f"{float(value):.4g}" if "." in value or "e" in value else value
    except ValueError:
        return value


def short_time(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def jobs_table(summaries: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("NAME", "STATUS", "SECONDARY", "CREATED", "ENDED"):
        table.add_column(column)
    for item in summaries:
        table.add_row(
            item["TrainingJobName"],
            item["TrainingJobStatus"],
            item.get("SecondaryStatus", "-"),
            short_time(item.get("CreationTime")),
            short_time(item.get("TrainingEndTime")),
        )
    return table


def describe_text(description: dict[str, Any], console: Console) -> None:
    """A readable summary of DescribeTrainingJob."""
    d = description
    console.print(f"[bold]{d['TrainingJobName']}[/bold]  {d['TrainingJobArn']}")
    console.print(f"Status: {d['TrainingJobStatus']} ({d['SecondaryStatus']})")
    if d.get("FailureReason"):
        console.print(f"Failure reason: {d['FailureReason']}", markup=False)
    spec = d.get("AlgorithmSpecification", {})
    resources = d.get("ResourceConfig", {})
    console.print(
        f"Image: {spec.get('TrainingImage', '-')}   Input mode: {spec.get('TrainingInputMode', '-')}"
    )
    console.print(f"Resources: {resources.get('InstanceCount', '-')} x {resources.get('InstanceType', '-')}")
    console.print(
        f"Created: {short_time(d.get('CreationTime'))}   Started: {short_time(d.get('TrainingStartTime'))}"
        f"   Ended: {short_time(d.get('TrainingEndTime'))}"
    )
    if "TrainingTimeInSeconds" in d:
        console.print(
            f"Training seconds: {d['TrainingTimeInSeconds']}   Billable seconds: {d['BillableTimeInSeconds']}"
        )
    console.print(f"Model artifacts: {d['ModelArtifacts']['S3ModelArtifacts']}")
    if d.get("HyperParameters"):
        console.print(
            "Hyperparameters: " + ", ".join(f"{k}={v}" for k, v in sorted(d["HyperParameters"].items())),
            markup=False,
        )
    transitions = Table(
        box=None, header_style="bold", title="Secondary status transitions", title_justify="left"
    )
    for column in ("STATUS", "START", "END", "MESSAGE"):
        transitions.add_column(column)
    for t in d.get("SecondaryStatusTransitions", []):
        transitions.add_row(
            t["Status"], short_time(t["StartTime"]), short_time(t.get("EndTime")), t["StatusMessage"]
        )
    console.print(transitions)
    if d.get("FinalMetricDataList"):
        metrics = Table(box=None, header_style="bold", title="Final metrics", title_justify="left")
        metrics.add_column("METRIC")
        metrics.add_column("VALUE", justify="right")
        for m in d["FinalMetricDataList"]:
            metrics.add_row(m["MetricName"], f"{m['Value']:.6g}")
        console.print(metrics)
