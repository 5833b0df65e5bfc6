"""The trainplane command as a user runs it: exit codes, one-line errors, JSON output, logs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from jobs_helpers import script_job
from trainplane import TrainPlane, TrainplaneError
from trainplane.cli import main as cli_main
from trainplane.cli import tuning
from trainplane.cli.main import make_console

pytestmark = pytest.mark.slow


def cli(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trainplane.cli.main", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_spec(tmp_path: Path, request: dict[str, Any], suffix: str = ".yaml") -> Path:
    path = tmp_path / f"{request['TrainingJobName']}{suffix}"
    path.write_text(yaml.safe_dump(request) if suffix == ".yaml" else json.dumps(request))
    return path


def test_train_shows_progress_and_exits_zero_on_completion(tmp_path: Path) -> None:
    home = tmp_path / "home"
    request = script_job("cli-ok", tmp_path, 'print("hello from the job")')
    result = cli(home, "train", str(write_spec(tmp_path, request)), "--logs")
    assert result.returncode == 0, result.stderr
    assert "Training - Training image download completed. Training in progress." in result.stdout
    assert "[algo-1] hello from the job" in result.stdout
    assert "Completed. Model:" in result.stdout

    listing = json.loads(cli(home, "jobs", "list", "--output", "json").stdout)
    assert [s["TrainingJobName"] for s in listing["TrainingJobSummaries"]] == ["cli-ok"]
    description = json.loads(cli(home, "jobs", "describe", "cli-ok", "--output", "json").stdout)
    assert description["TrainingJobStatus"] == "Completed"
    assert description["OutputDataConfig"]["KmsKeyId"] == ""
    logs = cli(home, "jobs", "logs", "cli-ok")
    assert logs.returncode == 0 and "hello from the job" in logs.stdout.splitlines()
    text = cli(home, "jobs", "describe", "cli-ok")
    assert "Status: Completed (Completed)" in text.stdout


def test_a_failing_job_exits_non_zero_with_its_reason(tmp_path: Path) -> None:
    request = script_job("cli-fail", tmp_path, "raise SystemExit(3)")
    result = cli(tmp_path / "home", "train", str(write_spec(tmp_path, request, ".json")))
    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if line.startswith("trainplane:")]
    assert "cli-fail Failed: AlgorithmError: ExecuteUserScriptError:" in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("TrainingJobName: [unclosed", "is not valid YAML"),
        ("- just\n- a list\n", "must hold a CreateTrainingJob request"),
        ("TrainingJobName: bad_name\n", "ValidationException: "),
    ],
)
def test_bad_specs_get_one_clear_line_and_a_non_zero_exit(
    tmp_path: Path, content: str, expected: str
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(content)
    result = cli(tmp_path / "home", "train", str(spec))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr


@pytest.mark.parametrize(
    ("command", "content", "expected"),
    [
        ("train", b"\xff\xfeT\x00r\x00", "is not UTF-8 text (byte 0: invalid start byte)"),
        ("tune", b"Name: caf\xe9\n", "is not UTF-8 text (byte 9: invalid continuation byte)"),
        ("tune", b"", "must hold a CreateHyperParameterTuningJob request (a mapping), not nothing"),
    ],
)
def test_unreadable_and_empty_specs_get_one_clear_line(
    tmp_path: Path, command: str, content: bytes, expected: str
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(content)
    result = cli(tmp_path / "home", command, str(spec))
    assert result.returncode == 1
    assert result.stderr.strip() == f"trainplane: {spec} {expected}"


def test_unknown_jobs_and_missing_files_are_one_line_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for args in (("jobs", "describe", "nope"), ("jobs", "stop", "nope"), ("jobs", "logs", "nope")):
        result = cli(home, *args)
        assert result.returncode == 1
        assert result.stderr.strip() == "trainplane: ValidationException: Requested resource not found."
    missing = cli(home, "train", str(tmp_path / "missing.yaml"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    delete = cli(home, "jobs", "delete", "nope")
    assert delete.returncode == 1 and "ResourceNotFound" in delete.stderr


def test_logs_of_a_host_the_job_does_not_have_is_a_one_line_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    request = script_job("two-hosts", tmp_path, 'print("hi")')
    request["ResourceConfig"]["InstanceCount"] = 2
    environ = {"TRAINPLANE_HOME": str(home), "TRAINPLANE_OVERSUBSCRIPTION": "2"}
    with TrainPlane(environ=environ, run_jobs=False) as client:
        client.create_training_job(**request)  # stays queued: --follow would wait for ever
    for follow in ((), ("--follow",)):
        result = cli(home, "jobs", "logs", "two-hosts", "--host", "algo-9", *follow, timeout=30)
        assert result.returncode == 1
        assert (
            result.stderr
            == "trainplane: training job two-hosts has no host algo-9; its hosts: algo-1, algo-2\n"
        )
        assert result.stdout == ""


def test_following_a_job_no_control_plane_runs_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with TrainPlane(home=home, run_jobs=False) as client:
        client.create_training_job(**script_job("undriven", tmp_path, 'print("hi")'))
    follow = subprocess.Popen(
        [sys.executable, "-m", "trainplane.cli.main", "--home", str(home), "jobs", "logs", "undriven", "-f"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stderr is not None
        line = follow.stderr.readline()  # printed before it starts waiting
    finally:
        follow.kill()
        follow.wait()
    assert line.startswith("trainplane: no control plane is running undriven")
    with TrainPlane(home=home) as client:  # a control plane runs now: the job is driven
        with TrainPlane(home=home, run_jobs=False) as reader:
            assert cli_main._driven(reader, "undriven")
        client.wait_for_training_job("undriven", timeout=60)


def test_stop_from_another_process_stops_a_running_job(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = """
        import time
        print("waiting", flush=True)
        time.sleep(600)
    """
    spec = write_spec(tmp_path, script_job("cli-stop", tmp_path, code))
    runner = subprocess.Popen(
        [sys.executable, "-m", "trainplane.cli.main", "--home", str(home), "train", str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _logged(home, "cli-stop", "waiting"):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.2)
        stop = subprocess.run(
            [sys.executable, "-m", "trainplane.cli.main", "--home", str(home), "jobs", "stop", "cli-stop"],
            capture_output=True,
            text=True,
            timeout=200,
        )
        assert stop.returncode == 0, stop.stderr
        assert "cli-stop: Stopped (Stopped)" in stop.stdout
        _, stderr = runner.communicate(timeout=60)
    finally:
        runner.kill()
    assert runner.returncode == 1
    assert "cli-stop Stopped" in stderr


def _logged(home: Path, name: str, text: str) -> bool:
    if not (home / "trainplane.db").exists():
        return False
    with TrainPlane(home=home, run_jobs=False) as tp:
        try:
            return any(e.message == text for e in tp.log_events(name))
        except TrainplaneError:
            return False


def test_a_stopped_tuning_job_ends_with_its_status_not_the_status_twice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stopped = {"HyperParameterTuningJobName": "t", "HyperParameterTuningJobStatus": "Stopped"}
    assert tuning._report_end(stopped, make_console()) == 1
    failed = {**stopped, "HyperParameterTuningJobStatus": "Failed", "FailureReason": "All 2 jobs\nfailed."}
    assert tuning._report_end(failed, make_console()) == 1
    assert capsys.readouterr().err.splitlines() == [
        "trainplane: tuning job t Stopped",
        "trainplane: tuning job t Failed: All 2 jobs failed.",
    ]


def test_children_of_a_multi_definition_job_show_their_definition() -> None:
    summary = {"TrainingJobStatus": "Completed", "TunedHyperParameters": {"x": "0.5"}}
    items = [
        {**summary, "TrainingJobName": "m-001-aaaaaaaa", "TrainingJobDefinitionName": "defA"},
        {**summary, "TrainingJobName": "m-002-bbbbbbbb", "TrainingJobDefinitionName": "defB"},
    ]
    console = Console(width=200, record=True)
    console.print(tuning.children_table(items))
    rows = console.export_text().splitlines()
    assert rows[0].split()[:3] == ["TRAINING", "JOB", "DEFINITION"]
    assert rows[1].split()[:2] == ["m-001-aaaaaaaa", "defA"] and rows[2].split()[:2] == [
        "m-002-bbbbbbbb",
        "defB",
    ]
    single = Console(width=200, record=True)
    single.print(tuning.children_table([{**summary, "TrainingJobName": "s-001-cccccccc"}]))
    assert "DEFINITION" not in single.export_text()


def test_jobs_logs_prints_every_line_of_a_long_log(tmp_path: Path) -> None:
    home = tmp_path / "home"
    request = script_job("long-log", tmp_path, 'for i in range(12_005):\n    print(f"line {i}")')
    assert cli(home, "train", str(write_spec(tmp_path, request))).returncode == 0
    for extra in ([], ["--host", "algo-1"]):
        logs = cli(home, "jobs", "logs", "long-log", *extra)
        assert logs.returncode == 0, logs.stderr
        lines = [line.removeprefix("[algo-1] ") for line in logs.stdout.splitlines()]
        assert [line for line in lines if line.startswith("line ")] == [f"line {i}" for i in range(12_005)]


def test_jobs_list_max_results_above_one_page_follows_the_next_token(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with TrainPlane(home=home, run_jobs=False) as tp:  # stored, queued, never run
        for i in range(103):
            tp.create_training_job(**script_job(f"many-{i:03d}", tmp_path, "print(1)"))
    listing = cli(home, "jobs", "list", "--max-results", "102", "--output", "json")
    assert listing.returncode == 0, listing.stderr
    names = [s["TrainingJobName"] for s in json.loads(listing.stdout)["TrainingJobSummaries"]]
    assert names == [f"many-{i:03d}" for i in range(102, 0, -1)]  # newest first, no page cut at 100
    refused = cli(home, "jobs", "list", "--max-results", "0")
    assert refused.returncode == 2 and "--max-results: must be at least 1, got 0" in refused.stderr
