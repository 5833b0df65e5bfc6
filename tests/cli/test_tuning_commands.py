"""``trainplane tuning ...`` and ``tune``'s options: what each asks of the API, and its exit codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.console import Console

from trainplane.cli import tuning
from trainplane.cli.main import build_parser


class RecordingChildren:
    """ListTrainingJobsForHyperParameterTuningJob in two pages, recording each request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def list_training_jobs_for_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        item = {"TrainingJobStatus": "Completed", "TunedHyperParameters": {}}
        if "NextToken" not in request:
            return {"TrainingJobSummaries": [{**item, "TrainingJobName": "t-002"}], "NextToken": "more"}
        return {"TrainingJobSummaries": [{**item, "TrainingJobName": "t-001"}]}


def test_tuning_jobs_sorts_and_filters_through_the_api_on_every_page(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(
        [
            *("tuning", "jobs", "t", "--sort-by", "FinalObjectiveMetricValue", "--sort-order", "Descending"),
            *("--status", "Completed", "--output", "json"),
        ]
    )
    client = RecordingChildren()
    assert tuning.run_tuning(args, client, Console()) == 0  # type: ignore[arg-type]
    asked = {"SortBy": "FinalObjectiveMetricValue", "SortOrder": "Descending", "StatusEquals": "Completed"}
    assert [{k: r.get(k) for k in asked} for r in client.requests] == [asked, asked]
    assert client.requests[1]["NextToken"] == "more"
    names = [s["TrainingJobName"] for s in json.loads(capsys.readouterr().out)["TrainingJobSummaries"]]
    assert names == ["t-002", "t-001"]  # the API's order, kept


def test_tuning_jobs_without_options_asks_for_the_api_defaults() -> None:
    client = RecordingChildren()
    assert tuning.run_tuning(build_parser().parse_args(["tuning", "jobs", "t"]), client, Console()) == 0  # type: ignore[arg-type]
    assert not {"SortBy", "SortOrder", "StatusEquals"} & set(client.requests[0])


@pytest.mark.parametrize("value", ["0", "-1"])
def test_tune_top_must_be_a_positive_integer(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["tune", "spec.yaml", "--top", value])
    assert exit_.value.code == 2
    assert f"--top: must be at least 1, got {value}" in capsys.readouterr().err
