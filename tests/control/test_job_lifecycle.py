"""Real script-mode jobs through the whole machinery: process, logs, metrics, artifacts, stop, timeout."""

from __future__ import annotations

import itertools
import json
import os
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs_helpers import SKLEARN_IMAGE, script_job, source_dir
from trainplane import TrainPlane

pytestmark = pytest.mark.slow


@pytest.fixture
def tp(tmp_path: Path) -> Iterator[TrainPlane]:
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home"), "TRAINPLANE_STOP_GRACE_SECONDS": "3"}
    with TrainPlane(environ=environ) as client:
        yield client


def model_members(tmp_path: Path, name: str) -> list[str]:
    with tarfile.open(tmp_path / "output" / name / "output" / "model.tar.gz") as tar:
        return sorted(tar.getnames())


def test_script_job_completes_with_metrics_logs_and_model(tp: TrainPlane, tmp_path: Path) -> None:
    code = """
        import argparse, json, os, sys
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int)
        parser.add_argument("--optimizer")
        args = parser.parse_args()
        for epoch in range(args.epochs):
            print(f"epoch={epoch}\\tloss={1.0 / (epoch + 1):.4f}", flush=True)
        print("hps", json.loads(os.environ["SM_HPS"]), file=sys.stderr)
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
            f.write(args.optimizer)
    """
    request = script_job(
        "script-ok",
        tmp_path,
        code,
        hyperparameters={"epochs": "3", "optimizer": '"adam"'},
        AlgorithmSpecification={
            "TrainingImage": SKLEARN_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "train:loss", "Regex": "loss=([0-9.]+)"}],
        },
    )
    tp.create_training_job(**request)
    description = tp.wait_for_training_job("script-ok", timeout=120)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert [t["Status"] for t in description["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    last = description["SecondaryStatusTransitions"][-1]
    assert last["StartTime"] == last["EndTime"]
    assert description["FinalMetricDataList"][0]["MetricName"] == "train:loss"
    assert description["FinalMetricDataList"][0]["Value"] == pytest.approx(1 / 3, abs=1e-3)
    assert description["TrainingTimeInSeconds"] >= 1
    assert description["BillableTimeInSeconds"] == description["TrainingTimeInSeconds"]
    assert description["TrainingStartTime"] <= description["TrainingEndTime"]
    messages = [e.message for e in tp.log_events("script-ok")]
    assert "epoch=0\tloss=1.0000" in messages
    assert any(m.startswith("hps {'epochs': 3, 'optimizer': 'adam'}") for m in messages)
    assert model_members(tmp_path, "script-ok") == ["model.txt"]
    assert description["ModelArtifacts"]["S3ModelArtifacts"].endswith("/script-ok/output/model.tar.gz")


def test_crashing_script_fails_with_the_toolkit_reason(tp: TrainPlane, tmp_path: Path) -> None:
    code = """
        import os, sys
        print("about to fail in", os.getcwd(), flush=True)
        raise SystemExit("the data looks wrong")
    """
    tp.create_training_job(**script_job("script-crash", tmp_path, code))
    description = tp.wait_for_training_job("script-crash", timeout=120)
    assert description["TrainingJobStatus"] == "Failed"
    assert description["SecondaryStatus"] == "Failed"
    reason = description["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError:")
    assert "ExitCode 1" in reason and "the data looks wrong" in reason
    # The toolkit's Command is the script's command line, not the /opt/ml sandbox around it.
    assert reason.endswith(f'Command "{sys.executable} train.py"'), reason
    # Scripts run where the toolkit runs them.
    assert "about to fail in /opt/ml/code" in [e.message for e in tp.log_events("script-crash")]


def test_stop_sends_sigterm_waits_and_still_uploads_the_model(tp: TrainPlane, tmp_path: Path) -> None:
    code = """
        import os, signal, sys, time
        def on_term(signum, frame):
            with open(os.path.join(os.environ["SM_MODEL_DIR"], "saved-on-sigterm"), "w") as f:
                f.write("yes")
            print("got SIGTERM", flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, on_term)
        print("ready", flush=True)
        time.sleep(300)
    """
    tp.create_training_job(**script_job("script-stop", tmp_path, code))
    _wait_for_line(tp, "script-stop", "ready")
    tp.stop_training_job(TrainingJobName="script-stop")
    assert tp.describe_training_job(TrainingJobName="script-stop")["TrainingJobStatus"] in (
        "Stopping",
        "Stopped",
    )
    description = tp.wait_for_training_job("script-stop", timeout=60)
    assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == ("Stopped", "Stopped")
    statuses = [t["Status"] for t in description["SecondaryStatusTransitions"]]
    assert statuses[-3:] == ["Stopping", "Uploading", "Stopped"]
    assert model_members(tmp_path, "script-stop") == ["saved-on-sigterm"]


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(tp: TrainPlane, tmp_path: Path) -> None:
    code = """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open("child.pid", "w") as f:
            f.write(str(child.pid))
        print("ready", flush=True)
        time.sleep(600)
    """
    tp.create_training_job(**script_job("script-stubborn", tmp_path, code))
    _wait_for_line(tp, "script-stubborn", "ready")
    started = time.monotonic()
    tp.stop_training_job(TrainingJobName="script-stubborn")
    description = tp.wait_for_training_job("script-stubborn", timeout=60)
    assert description["TrainingJobStatus"] == "Stopped"
    assert time.monotonic() - started >= 3  # the grace period was honoured
    pid_file = next((Path(tp.settings.home) / "jobs" / "script-stubborn").rglob("child.pid"))
    assert not _alive(int(pid_file.read_text())), "the grandchild outlived its job"


def test_a_background_child_left_running_does_not_delay_the_hosts_end(tp: TrainPlane, tmp_path: Path) -> None:
    # The child keeps the algorithm's stdout and stderr open: the host still ends as soon as the
    # main process exits, with what the child printed before.
    code = """
        import os, subprocess, time
        child = subprocess.Popen(["sh", "-c", "echo from the child; touch printed; exec sleep 997"])
        while not os.path.exists("printed"):
            time.sleep(0.01)
        with open("child.pid", "w") as f:
            f.write(str(child.pid))
        print("main exits", flush=True)
    """
    tp.create_training_job(**script_job("script-bg", tmp_path, code))
    description = tp.wait_for_training_job("script-bg", timeout=60)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    events = {e.message: e.timestamp for e in tp.log_events("script-bg")}
    assert "from the child" in events
    agent_dir = tp.settings.jobs_root / "script-bg" / "1" / "algo-1.agent"
    result = json.loads((agent_dir / "result.json").read_text())
    assert result["time"] - events["main exits"] < 3  # was 10 s: two readers waiting 5 s each
    pid_file = next((tp.settings.jobs_root / "script-bg").rglob("child.pid"))
    assert not _alive(int(pid_file.read_text()))


def test_max_runtime_stops_the_job_as_max_runtime_exceeded(tp: TrainPlane, tmp_path: Path) -> None:
    code = """
        import time
        print("sleeping", flush=True)
        time.sleep(300)
    """
    request = script_job("script-timeout", tmp_path, code, StoppingCondition={"MaxRuntimeInSeconds": 2})
    tp.create_training_job(**request)
    description = tp.wait_for_training_job("script-timeout", timeout=60)
    assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == (
        "Stopped",
        "MaxRuntimeExceeded",
    )
    assert "MaxRuntimeInSeconds" in description["SecondaryStatusTransitions"][-4]["StatusMessage"] or any(
        "MaxRuntimeInSeconds" in t["StatusMessage"] for t in description["SecondaryStatusTransitions"]
    )


def _wait_for_line(tp: TrainPlane, name: str, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e.message == text for e in tp.log_events(name)):
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never printed {text!r}; logs: {[e.message for e in tp.log_events(name)]}")


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_container_entrypoint_jobs_see_their_root_at_opt_ml(tp: TrainPlane, tmp_path: Path) -> None:
    # The shape SageMaker SDK v3's ModelTrainer(source_code=...) sends: bash -c over absolute /opt/ml paths.
    request = script_job("entrypoint", tmp_path, "print(1)")
    request["HyperParameters"] = {"learning_rate": "0.1"}
    request["AlgorithmSpecification"] = {
        "TrainingImage": SKLEARN_IMAGE,
        "TrainingInputMode": "File",
        "ContainerEntrypoint": ["/bin/bash"],
        "ContainerArguments": [
            "-c",
            "cat /opt/ml/input/config/hyperparameters.json && echo && echo $SM_MODEL_DIR "
            "&& cp /opt/ml/input/config/resourceconfig.json /opt/ml/model/",
        ],
    }
    tp.create_training_job(**request)
    description = tp.wait_for_training_job("entrypoint", timeout=120)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    messages = [e.message for e in tp.log_events("entrypoint")]
    assert '{"learning_rate": "0.1"}' in messages
    assert "/opt/ml/model" in messages
    assert model_members(tmp_path, "entrypoint") == ["resourceconfig.json"]


def test_a_launch_that_raises_fails_the_job_with_a_reason_instead_of_leaving_it_starting(
    tp: TrainPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executor = tp._platform.reconciler.executor

    def broken_launch(hosts: list[Any]) -> list[dict[str, Any]]:
        raise OSError("no agent could be started")

    monkeypatch.setattr(executor, "launch", broken_launch)
    tp.create_training_job(**script_job("no-launch", tmp_path, "print(1)"))
    description = tp.wait_for_training_job("no-launch", timeout=60)
    assert description["TrainingJobStatus"] == "Failed"
    assert description["FailureReason"] == (
        "InternalServerError: The training job could not be started: no agent could be started"
    )
    monkeypatch.undo()  # the next job launches as usual: the platform was not wedged
    tp.create_training_job(**script_job("launches", tmp_path, "print(1)"))
    assert tp.wait_for_training_job("launches", timeout=60)["TrainingJobStatus"] == "Completed"


def test_the_machines_pythonpath_reaches_scripts_after_the_code_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = tmp_path / "site-lib"
    library.mkdir()
    (library / "team_helpers.py").write_text("GREETING = 'from the machine'\n")
    monkeypatch.setenv("PYTHONPATH", str(library))
    code = """
        import os, team_helpers
        print(team_helpers.GREETING, flush=True)
        print("path", os.environ["PYTHONPATH"], flush=True)
    """
    with TrainPlane(environ={"TRAINPLANE_HOME": str(tmp_path / "home")}) as tp:
        tp.create_training_job(**script_job("machine-path", tmp_path, code))
        description = tp.wait_for_training_job("machine-path", timeout=120)
        lines = [e.message for e in tp.log_events("machine-path")]
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert "from the machine" in lines
    (path_line,) = [line for line in lines if line.startswith("path ")]
    entries = path_line.removeprefix("path ").split(os.pathsep)
    assert entries[0].endswith("/code") and entries[-1] == str(library)


def test_a_shell_entry_point_without_the_exec_bit_runs_with_the_jobs_python_first_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The machine's PATH leads to a Python without trainplane; the job's Python (this one) has it.
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    script = "python3 -c 'import sys, trainplane; print(\"python\", sys.prefix)'\n"
    uri = source_dir(tmp_path / "code", script, name="train.sh")  # archived with mode 0644
    request = script_job("shell-entry", tmp_path, "")
    request["HyperParameters"] = {"sagemaker_program": '"train.sh"', "sagemaker_submit_directory": f'"{uri}"'}
    with TrainPlane(home=tmp_path / "home") as tp:
        tp.create_training_job(**request)
        description = tp.wait_for_training_job("shell-entry", timeout=120)
        messages = [e.message for e in tp.log_events("shell-entry")]
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert f"python {sys.prefix}" in messages


def test_transitions_of_fast_failing_jobs_never_go_back_in_time(tp: TrainPlane, tmp_path: Path) -> None:
    # A host that fails at once reports its result (dated by its own clock) before the control plane
    # has recorded Downloading and Training (dated when it saw them): the end must not precede those.
    names = [f"fast-fail-{i}" for i in range(6)]
    for name in names:
        tp.create_training_job(**script_job(name, tmp_path, "import sys; sys.exit(2)"))
    for name in names:
        description = tp.wait_for_training_job(name, timeout=120)
        assert description["TrainingJobStatus"] == "Failed"
        transitions = description["SecondaryStatusTransitions"]
        for earlier, later in itertools.pairwise(transitions):
            assert earlier["StartTime"] <= earlier["EndTime"] == later["StartTime"], (name, transitions)
        assert description["TrainingEndTime"] >= transitions[-1]["StartTime"], (name, description)
