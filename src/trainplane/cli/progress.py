"""Live progress in the foreground, as plain lines: of one job (status transitions, metric values,
optionally log lines) and of a tuning job where no terminal redraws its leaderboard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape

from trainplane.cli import output
from trainplane.client import TrainPlane


class JobProgress:
    def __init__(self, client: TrainPlane, name: str, console: Console, show_logs: bool = False) -> None:
        self.client = client
        self.name = name
        self.console = console
        self.show_logs = show_logs
        self._transitions = 0
        self._log_after = 0
        self._metrics: dict[str, float] = {}

    def update(self) -> dict[str, Any]:
        description = self.client.describe_training_job(TrainingJobName=self.name)
        transitions = description.get("SecondaryStatusTransitions", [])
        for t in transitions[self._transitions :]:
            stamp = t["StartTime"].astimezone().strftime("%H:%M:%S")
            self.console.print(
                f"{stamp} [bold]{t['Status']}[/bold] - {escape(t['StatusMessage'])}", highlight=False
            )
        self._transitions = len(transitions)
        if self.show_logs:
            for event in self.client.log_events(self.name, after_id=self._log_after):
                self._log_after = event.id
                host = event.stream.split("/", 1)[1].rsplit("-", 1)[0]
                self.console.print(f"[{host}] {event.message}", markup=False, highlight=False, soft_wrap=True)
        self._print_new_metrics(description)
        return description

    def _print_new_metrics(self, description: dict[str, Any]) -> None:
        # The latest value of each metric, from the description: reading every point on each refresh
        # would cost more and more for a job that reports a metric per step.
        latest = {m["MetricName"]: m["Value"] for m in description.get("FinalMetricDataList", [])}
        if latest == self._metrics:
            return
        self._metrics = latest
        shown = "  ".join(f"{name}={value:.5g}" for name, value in sorted(self._metrics.items()))
        self.console.print(f"  metrics: {shown}", highlight=False, markup=False)


CHILD_ENDS = ("Completed", "Failed", "Stopped")


class TuningProgress:
    """One line when a child starts or ends, the best objective changes or the tuning job's status does,
    each with the status counters: what ``trainplane tune`` prints to a pipe, a file or CI."""

    def __init__(self, console: Console, now: Callable[[], datetime] = datetime.now) -> None:
        self.console = console
        self.now = now
        self._children: dict[str, str] = {}
        self._best: tuple[str, float] | None = None
        self._status: str | None = None

    def update(self, description: dict[str, Any], jobs: list[dict[str, Any]]) -> None:
        events = [
            line for item in sorted(jobs, key=lambda j: j["TrainingJobName"]) for line in self._child(item)
        ]
        events += self._best_line(description)
        status = description["HyperParameterTuningJobStatus"]
        if status != self._status and self._status is not None:
            events.append(f"{description['HyperParameterTuningJobName']} {status}")
        self._status = status
        stamp = self.now().strftime("%H:%M:%S")
        tally = output.counters(description["TrainingJobStatusCounters"])
        for event in events:
            self.console.print(f"{stamp} {event}  [{tally}]", markup=False, highlight=False, soft_wrap=True)

    def _child(self, item: dict[str, Any]) -> list[str]:
        name, status = item["TrainingJobName"], item["TrainingJobStatus"]
        before = self._children.get(name)
        self._children[name] = status
        lines = []
        if before is None:
            tuned = ", ".join(
                f"{k}={output.short_value(v)}" for k, v in sorted(item["TunedHyperParameters"].items())
            )
            lines.append(f"started {name} {tuned}")
        if status in CHILD_ENDS and before not in CHILD_ENDS:
            metric = item.get("FinalHyperParameterTuningJobObjectiveMetric")
            result = f" {metric['MetricName']}={metric['Value']:.6g}" if metric else ""
            reason = item.get("FailureReason")
            lines.append(f"{status} {name}{result}" + (f": {output.one_line(reason)}" if reason else ""))
        return lines

    def _best_line(self, description: dict[str, Any]) -> list[str]:
        best = description.get("BestTrainingJob")
        metric = (best or {}).get("FinalHyperParameterTuningJobObjectiveMetric")
        if best is None or metric is None or (best["TrainingJobName"], metric["Value"]) == self._best:
            return []
        self._best = (best["TrainingJobName"], metric["Value"])
        return [f"best {best['TrainingJobName']} {metric['MetricName']}={metric['Value']:.6g}"]
