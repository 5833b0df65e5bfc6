"""``trainplane tune``'s progress: a redrawn leaderboard on a terminal, plain lines elsewhere, and the
final table drawn from the final description. A scripted client stands in for the platform."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from rich.console import Console

from trainplane.cli import tuning

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def child(index: int, status: str, value: float | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "TrainingJobName": f"t-{index:03d}-0000000{index}",
        "TrainingJobStatus": status,
        "TunedHyperParameters": {"x": f"0.{index}"},
    }
    if value is not None:
        item["FinalHyperParameterTuningJobObjectiveMetric"] = {"MetricName": "loss", "Value": value}
    return item


def snapshot(status: str, children: list[dict[str, Any]], **counters: int) -> dict[str, Any]:
    description: dict[str, Any] = {
        "HyperParameterTuningJobName": "t",
        "HyperParameterTuningJobStatus": status,
        "HyperParameterTuningJobConfig": {"HyperParameterTuningJobObjective": {"Type": "Minimize"}},
        "TrainingJobStatusCounters": counters,
    }
    scored = [c for c in children if "FinalHyperParameterTuningJobObjectiveMetric" in c]
    if scored:
        best = min(scored, key=lambda c: c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
        description["BestTrainingJob"] = best
    return description, children


class ScriptedTuning:
    """Each describe moves the tuning job one snapshot on, as time passes between two polls; the children
    listed are those of the latest snapshot described."""

    def __init__(self, snapshots: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
        self.snapshots = snapshots
        self.at = -1

    def create_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        return {"HyperParameterTuningJobArn": "arn:aws:sagemaker:us-east-1:0:hyper-parameter-tuning-job/t"}

    def describe_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        self.at = min(self.at + 1, len(self.snapshots) - 1)
        return self.snapshots[self.at][0]

    def list_training_jobs_for_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        return {"TrainingJobSummaries": self.snapshots[max(self.at, 0)][1]}


SNAPSHOTS = [
    snapshot("InProgress", [child(1, "InProgress")], InProgress=1),
    snapshot("InProgress", [child(1, "Completed", 0.5), child(2, "InProgress")], Completed=1, InProgress=1),
    snapshot("InProgress", [child(1, "Completed", 0.5), child(2, "Completed", 0.25)], Completed=2),
    snapshot("Completed", [child(1, "Completed", 0.5), child(2, "Completed", 0.25)], Completed=2),
]


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuning, "REFRESH_SECONDS", 0)


def run(snapshots: list[Any], *, terminal: bool) -> tuple[int, str]:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=terminal, width=200, highlight=False)
    code = tuning.run_tune(ScriptedTuning(snapshots), {"HyperParameterTuningJobName": "t"}, console, top=10)
    return code, stream.getvalue()


def test_tune_off_a_terminal_prints_plain_progress_lines_and_the_final_table() -> None:
    code, out = run(SNAPSHOTS, terminal=False)
    assert code == 0
    assert "\x1b" not in out  # no redraws, no colours
    lines = [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in out.splitlines()]
    assert lines[:7] == [
        "Created arn:aws:sagemaker:us-east-1:0:hyper-parameter-tuning-job/t",
        "started t-001-00000001 x=0.1  [InProgress=1]",
        "Completed t-001-00000001 loss=0.5  [Completed=1  InProgress=1]",
        "started t-002-00000002 x=0.2  [Completed=1  InProgress=1]",
        "best t-001-00000001 loss=0.5  [Completed=1  InProgress=1]",
        "Completed t-002-00000002 loss=0.25  [Completed=2]",
        "best t-002-00000002 loss=0.25  [Completed=2]",
    ]
    assert lines[7] == "t Completed  [Completed=2]"
    assert lines[8].strip() == "t: Completed  Completed=2"  # the leaderboard, once, at the end
    assert [line.split()[0] for line in lines[10:12]] == ["t-002-00000002", "t-001-00000001"]
    assert lines[-1] == "Completed t."


def test_a_child_that_starts_and_ends_between_two_polls_gets_both_lines() -> None:
    quick = [
        snapshot("InProgress", [], InProgress=0),
        snapshot(
            "Failed",
            [
                {
                    **child(1, "Failed"),
                    "FailureReason": "AlgorithmError:\nboom",
                    "TunedHyperParameters": {"x": "0.29892342129833416"},
                }
            ],
            NonRetryableError=1,
        ),
    ]
    code, out = run(quick, terminal=False)
    assert code == 1
    lines = [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in out.splitlines()]
    assert lines[1:4] == [
        "started t-001-00000001 x=0.2989  [NonRetryableError=1]",  # shortened as in the table
        "Failed t-001-00000001: AlgorithmError: boom  [NonRetryableError=1]",
        "t Failed  [NonRetryableError=1]",
    ]


def test_the_last_leaderboard_on_a_terminal_shows_the_final_status() -> None:
    for snapshots in (SNAPSHOTS, SNAPSHOTS[1:]):  # whichever poll first sees the end
        code, out = run(snapshots, terminal=True)
        assert code == 0
        titles = re.findall(r"^t: .*$", ANSI.sub("", out).replace("\r", "\n"), re.MULTILINE)
        assert titles, out
        assert titles[-1].strip() == "t: Completed  Completed=2"
