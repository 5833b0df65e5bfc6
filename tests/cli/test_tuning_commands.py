"""``trainplane tuning ...`` and ``tune``'s options: what each asks of the API, and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from rich.console import Console

from trainplane import TrainPlane
from trainplane.cli import tuning
from trainplane.cli.main import build_parser, main
from tuning_jobs import tuning_helpers


def tuning_request(name: str, tmp_path: Path) -> dict[str, Any]:
    return tuning_helpers.tuning_request(name, tmp_path, max_jobs=2, parallel=1)


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


def test_the_status_and_sort_choices_are_the_apis_enums() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    assert list(tuning.TUNING_STATUSES) == model.shape_for("HyperParameterTuningJobStatus").enum
    assert list(tuning.CHILD_STATUSES) == model.shape_for("TrainingJobStatus").enum
    assert list(tuning.CHILD_SORT_BY) == model.shape_for("TrainingJobSortByOptions").enum
    assert list(tuning.SORT_ORDERS) == model.shape_for("SortOrder").enum
    for status in ("Deleting", "DeleteFailed"):
        assert build_parser().parse_args(["tuning", "list", "--status", status]).status == status


def test_stopping_a_tuning_job_already_stopping_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    with TrainPlane(home=home, run_jobs=False) as tp:  # no control plane: it stays Stopping
        tp.create_hyper_parameter_tuning_job(**tuning_request("t", tmp_path))
        tp.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="t")
    assert main(["--home", home, "tuning", "stop", "t", "--no-wait"]) == 0
    assert main(["--home", home, "tuning", "stop", "t"]) == 0  # waits for it, as a first stop does
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["t is already stopping.", "t is already stopping.", "t: Stopped"]
    assert captured.err == ""
    assert main(["--home", home, "tuning", "stop", "t"]) == 1  # Stopped: there is nothing to stop
    assert capsys.readouterr().err == (
        "trainplane: ValidationException: "
        "The request was rejected because the tuning job is in status Stopped.\n"
    )


def test_tuning_delete_removes_a_terminal_job_and_refuses_a_running_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    with TrainPlane(home=home, run_jobs=False) as tp:
        tp.create_hyper_parameter_tuning_job(**tuning_request("t", tmp_path))
    assert main(["--home", home, "tuning", "delete", "t"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        "trainplane: ResourceInUse: "
        "Hyperparameter tuning job t is in status InProgress and cannot be deleted; stop it first."
    )
    with TrainPlane(home=home, run_jobs=False) as tp:
        tp.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="t")
    assert main(["--home", home, "tuning", "stop", "t"]) == 0  # waits until Stopped
    capsys.readouterr()
    assert main(["--home", home, "tuning", "delete", "t"]) == 0
    assert capsys.readouterr().out == "Deleted t\n"
    for args in (("delete", "t"), ("describe", "t")):
        assert main(["--home", home, "tuning", *args]) == 1
        assert capsys.readouterr().err == (
            "trainplane: ResourceNotFound: Amazon SageMaker can't find a tuning job named t.\n"
        )
