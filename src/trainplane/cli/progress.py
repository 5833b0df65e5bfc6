"""Live progress of one job in the foreground: status transitions, metric values, optionally log lines."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

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
