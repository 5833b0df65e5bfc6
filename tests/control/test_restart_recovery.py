"""The control plane dies (SIGKILL) mid-job; a new one adopts, fails or retries — never leaves InProgress."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from jobs_helpers import channel, script_job
from trainplane import TrainPlane

pytestmark = pytest.mark.slow


def start_control_plane(home: Path, spec: dict[str, Any], tmp_path: Path) -> subprocess.Popen[bytes]:
    spec_file = tmp_path / f"{spec['TrainingJobName']}.json"
    spec_file.write_text(json.dumps(spec))
    return subprocess.Popen(
        [sys.executable, "-m", "trainplane.cli.main", "--home", str(home), "train", str(spec_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def agent_pids(home: Path, name: str) -> list[int]:
    pids = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "trainplane.runtime.agent" in cmdline and any(f"/jobs/{name}/" in part for part in cmdline):
            pids.append(process.pid)
    return pids


def kill_agent_and_its_processes(pid: int) -> None:
    """The agent first: killed after its script, it could still report the script's -9 as the job's
    result (an AlgorithmError), and the job would not have vanished at all."""
    agent = psutil.Process(pid)
    processes = [agent, *agent.children(recursive=True)]
    for process in processes:
        process.kill()


def log_lines(home: Path, name: str) -> list[str]:
    with TrainPlane(home=home, run_jobs=False) as tp:
        return [e.message for e in tp.log_events(name)]


def kill_control_plane_once_logged(home: Path, request: dict[str, Any], line: str, tmp_path: Path) -> None:
    """Run ``request`` under a control plane of its own and SIGKILL it once the job has logged ``line``."""
    control = start_control_plane(home, request, tmp_path)
    wait_for(lambda: line in log_lines(home, request["TrainingJobName"]))
    control.send_signal(signal.SIGKILL)
    control.wait()


def first_attempt_hangs(tmp_path: Path) -> str:
    """A script whose first attempt prints "first attempt" and hangs; a second prints and exits."""
    marker = tmp_path / "first-attempt-ran"
    return f"""
        import os, time
        marker = {str(marker)!r}
        if os.path.exists(marker):
            print("second attempt", flush=True)
        else:
            open(marker, "w").close()
            print("first attempt", flush=True)
            time.sleep(600)
    """


def test_a_running_job_is_adopted_and_completes_after_the_control_plane_is_killed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = """
        import os, time
        for step in range(6):
            print(f"step {step}", flush=True)
            time.sleep(0.5)
        open(os.path.join(os.environ["SM_MODEL_DIR"], "done"), "w").close()
    """
    kill_control_plane_once_logged(home, script_job("adopt-me", tmp_path, code), "step 1", tmp_path)
    assert agent_pids(home, "adopt-me"), "the agent should survive its control plane"
    with TrainPlane(home=home) as tp:
        description = tp.wait_for_training_job("adopt-me", timeout=60)
        lines = [e.message for e in tp.log_events("adopt-me")]
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    steps = [line for line in lines if line.startswith("step ")]
    assert steps == [f"step {i}" for i in range(6)], "log lines lost or duplicated across the restart"


def test_a_job_whose_process_vanished_is_failed_with_a_clear_reason(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = """
        import time
        print("running", flush=True)
        time.sleep(600)
    """
    kill_control_plane_once_logged(home, script_job("vanished", tmp_path, code), "running", tmp_path)
    for pid in agent_pids(home, "vanished"):
        kill_agent_and_its_processes(pid)
    with TrainPlane(home=home) as tp:
        description = tp.wait_for_training_job("vanished", timeout=60)
    assert description["TrainingJobStatus"] == "Failed"
    assert description["FailureReason"].startswith("InternalServerError:")
    assert "control plane was not running" in description["FailureReason"]


def test_a_vanished_job_is_rerun_under_its_retry_strategy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = first_attempt_hangs(tmp_path)
    request = script_job("retried", tmp_path, code, RetryStrategy={"MaximumRetryAttempts": 1})
    kill_control_plane_once_logged(home, request, "first attempt", tmp_path)
    for pid in agent_pids(home, "retried"):
        kill_agent_and_its_processes(pid)
    with TrainPlane(home=home) as tp:
        description = tp.wait_for_training_job("retried", timeout=60)
        attempts = tp.platform.store.attempts("retried")
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert [a.status for a in attempts] == ["lost", "succeeded"]
    messages = [t["StatusMessage"] for t in description["SecondaryStatusTransitions"]]
    assert any("retry 1 of 1" in m for m in messages)
    assert not os.path.exists(home / "jobs" / "retried" / "1" / "algo-1" / "input" / "data" / "missing")


def test_agents_launched_by_a_control_plane_that_died_before_recording_them_are_killed(
    tmp_path: Path,
) -> None:
    # The state a control plane leaves when SIGKILLed between starting a job's agents and storing the
    # attempt: the job is running under a dead owner, no attempt is stored, and its agent lives on.
    from trainplane.control import plans
    from trainplane.executors.local import LocalExecutor

    home = tmp_path / "home"
    code = """
        import os, time
        print(f"run {os.getpid()}", flush=True)
        time.sleep(float(os.environ.get("SLEEP", "2")))
    """
    with TrainPlane(home=home, run_jobs=False) as tp:
        tp.create_training_job(**script_job("unrecorded", tmp_path, code))
        store, settings = tp._platform.store, tp.settings
        job = store.get_training_job("unrecorded")
        assert job is not None
        launches = plans.attempt_plan(job, 1, settings, 2)
        launches[0].spec["context"]["environment"]["SLEEP"] = "120"  # the orphan would run for minutes
        orphan = LocalExecutor(warm_spare=False).launch(launches)[0]
        store.update_training_job("unrecorded", now=time.time(), phase="running", owner="dead-controller")
    wait_for(lambda: psutil.pid_exists(orphan["pid"]) and bool(psutil.Process(orphan["pid"]).children()))
    orphan_tree = [psutil.Process(orphan["pid"]), *psutil.Process(orphan["pid"]).children(recursive=True)]
    with TrainPlane(home=home) as tp:
        wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in orphan_tree))
        description = tp.wait_for_training_job("unrecorded", timeout=60)
        attempts = tp._platform.store.attempts("unrecorded")
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert [a.number for a in attempts] == [1]  # relaunched as the attempt the dead one never recorded
    assert attempts[0].hosts[0]["pid"] != orphan["pid"]


def test_a_job_that_ended_while_no_control_plane_ran_is_not_billed_for_the_downtime(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = """
        import time
        for step in range(4):
            print(f"step {step}", flush=True)
            time.sleep(0.5)
    """
    kill_control_plane_once_logged(home, script_job("downtime", tmp_path, code), "step 1", tmp_path)
    wait_for(lambda: not agent_pids(home, "downtime"))  # the job ended with nobody watching
    time.sleep(8)  # the control plane stays down a while longer
    with TrainPlane(home=home) as tp:
        description = tp.wait_for_training_job("downtime", timeout=60)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    # ~2 s of work and the upload; not the 8 s and more during which no control plane ran.
    assert description["TrainingTimeInSeconds"] <= 6, description["TrainingTimeInSeconds"]
    assert description["BillableTimeInSeconds"] == description["TrainingTimeInSeconds"]
    # The adopting control plane does not record the attempt's phases a second time.
    statuses = [t["Status"] for t in description["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"], statuses
    ends = [t.get("EndTime") for t in description["SecondaryStatusTransitions"]]
    starts = [t["StartTime"] for t in description["SecondaryStatusTransitions"]]
    assert all(end is None or start <= end for start, end in zip(starts, ends, strict=True))


def test_an_agent_killed_under_a_watching_control_plane_is_retried_under_the_retry_strategy(
    tmp_path: Path,
) -> None:
    # The same internal error as a vanished job, but seen live: before, the job failed at once.
    home = tmp_path / "home"
    code = first_attempt_hangs(tmp_path)
    data = tmp_path / "train"
    data.mkdir()
    (data / "rows.csv").write_text("1,2\n")
    channels = [channel("train", f"file://{data}/")]
    with TrainPlane(home=home) as tp:
        tp.create_training_job(
            **script_job(
                "agent-lost",
                tmp_path,
                code,
                RetryStrategy={"MaximumRetryAttempts": 1},
                InputDataConfig=channels,
            )
        )
        wait_for(lambda: "first attempt" in [e.message for e in tp.log_events("agent-lost")])
        for pid in agent_pids(home, "agent-lost"):
            psutil.Process(pid).kill()  # the agent only: its script is left for the control plane to kill
        description = tp.wait_for_training_job("agent-lost", timeout=60)
        attempts = tp.platform.store.attempts("agent-lost")
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert [a.status for a in attempts] == ["lost", "succeeded"]
    assert attempts[0].reason is not None and "Host algo-1 was lost" in attempts[0].reason
    messages = [t["StatusMessage"] for t in description["SecondaryStatusTransitions"]]
    assert any("retry 1 of 1" in m for m in messages)
    first_root = home / "jobs" / "agent-lost" / "1" / "algo-1"
    assert (first_root / "model").is_dir()  # the first attempt's root is kept, its staged copy is not
    assert not (first_root / "input" / "data" / "train").exists()


def test_max_runtime_stops_the_algorithm_while_no_control_plane_runs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = """
        import time
        print("running", flush=True)
        time.sleep(600)
    """
    request = script_job("overrun", tmp_path, code, StoppingCondition={"MaxRuntimeInSeconds": 2})
    kill_control_plane_once_logged(home, request, "running", tmp_path)
    # No control plane now: the agent itself stops the algorithm 2 s + its slack after the start.
    wait_for(lambda: not agent_pids(home, "overrun"), timeout=60)
    with TrainPlane(home=home) as tp:
        description = tp.wait_for_training_job("overrun", timeout=60)
    lines = log_lines(home, "overrun")
    assert "MaxRuntimeInSeconds exceeded while no control plane watched: stopping the training job" in lines
    assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == (
        "Stopped",
        "MaxRuntimeExceeded",
    )
    # Billed until the agent stopped it, not until a control plane came back.
    assert description["BillableTimeInSeconds"] <= 2 + 10 + 5
