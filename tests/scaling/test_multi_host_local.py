"""InstanceCount > 1 on the local executor: real hosts algo-1..N, DDP over gloo, failures, logs."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from jobs_helpers import channel, script_job
from trainplane import TrainPlane
from trainplane.cli.main import main as cli_main

pytestmark = pytest.mark.slow

DDP = """
    import json, os
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")  # env://: MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK
    rank, world = dist.get_rank(), dist.get_world_size()
    value = torch.tensor([float(rank + 1)])
    dist.all_reduce(value)
    files = {c: sorted(os.listdir(os.environ["SM_CHANNEL_" + c.upper()])) for c in ("sharded", "replicated")}
    with open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "resourceconfig.json")) as handle:
        current = json.load(handle)["current_host"]
    print(f"rank={rank} world={world} local_rank={os.environ['LOCAL_RANK']} sum={value.item():g} "
          f"host={os.environ['SM_CURRENT_HOST']} config_host={current} hosts={os.environ['SM_HOSTS']} "
          f"files={json.dumps(files, sort_keys=True)} procs={os.environ['TRAINPLANE_PROCESSES_PER_HOST']}",
          flush=True)
    if rank == 0:
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as handle:
            handle.write(str(value.item()))
    dist.barrier()
    dist.destroy_process_group()
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def tp(home: Path) -> Iterator[TrainPlane]:
    environ = {
        "TRAINPLANE_HOME": str(home),
        "TRAINPLANE_OVERSUBSCRIPTION": "2",
        "TRAINPLANE_STOP_GRACE_SECONDS": "10",
    }
    with TrainPlane(environ=environ) as client:
        yield client


def data_dir(root: Path, count: int) -> str:
    root.mkdir(parents=True)
    for i in range(count):
        (root / f"part-{i}.txt").write_text(f"{i}\n")
    return f"file://{root}/"


def two_hosts(request: dict[str, object]) -> dict[str, object]:
    request["ResourceConfig"] = {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}
    return request


def test_two_host_gloo_all_reduce_with_per_host_contract_and_staging(
    tp: TrainPlane, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sharded = channel("sharded", data_dir(tmp_path / "sharded", 4), None)
    sharded["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    replicated = channel("replicated", data_dir(tmp_path / "replicated", 3), None)
    request = two_hosts(script_job("ddp", tmp_path, DDP, InputDataConfig=[sharded, replicated]))
    tp.create_training_job(**request)
    description = tp.wait_for_training_job("ddp", timeout=240)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    lines = {
        e.stream.split("/")[1].rsplit("-", 1)[0]: e.message
        for e in tp.log_events("ddp")
        if "rank=" in e.message
    }
    replicated_files = ["part-0.txt", "part-1.txt", "part-2.txt"]
    for rank, host in enumerate(["algo-1", "algo-2"]):
        line = lines[host]
        assert f"rank={rank} world=2 local_rank=0 sum=3 host={host} config_host={host}" in line
        assert 'hosts=["algo-1","algo-2"]' in line and line.endswith("procs=1")
        files = json.loads(line.split("files=")[1].split(" procs=")[0])
        assert files["sharded"] == [f"part-{rank}.txt", f"part-{rank + 2}.txt"]  # objects[i::n]
        assert files["replicated"] == replicated_files
    roots = [home / "jobs" / "ddp" / "1" / host for host in ("algo-1", "algo-2")]
    assert all((root / "input" / "config" / "resourceconfig.json").exists() for root in roots)

    assert cli_main(["--home", str(home), "jobs", "logs", "ddp"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("[algo-1] rank=0") for line in printed)
    assert any(line.startswith("[algo-2] rank=1") for line in printed)
    assert cli_main(["--home", str(home), "jobs", "logs", "ddp", "--host", "algo-2"]) == 0
    only = capsys.readouterr().out.splitlines()
    assert only and all(line.startswith("[algo-2] ") for line in only)


FAILING = """
    import os, subprocess, sys, time
    if os.environ["SM_CURRENT_HOST"] == "algo-2":
        time.sleep(1)
        raise SystemExit("algo-2 lost its data")
    # algo-1 would run forever, with a grandchild that left its session.
    child = subprocess.Popen(["sleep", "600"], start_new_session=True)
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "..", "..", "grandchild.pid"), "w") as f:
        f.write(str(child.pid))
    print("algo-1 working", flush=True)
    time.sleep(600)
"""


def test_one_failing_host_ends_the_attempt_and_leaves_no_process(
    tp: TrainPlane, tmp_path: Path, home: Path
) -> None:
    tp.create_training_job(**two_hosts(script_job("half-broken", tmp_path, FAILING)))
    description = tp.wait_for_training_job("half-broken", timeout=120)
    assert description["TrainingJobStatus"] == "Failed"
    assert description["FailureReason"].startswith("AlgorithmError: ")
    assert any("algo-2 lost its data" in e.message for e in tp.log_events("half-broken", host="algo-2"))
    attempt = home / "jobs" / "half-broken" / "1"
    grandchild = int((attempt / "algo-1" / "grandchild.pid").read_text())
    records = tp._platform.store.attempts("half-broken")[-1].hosts
    deadline = time.monotonic() + 10
    pids = [grandchild, *(r["pid"] for r in records)]
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(0.1)
    assert not [pid for pid in pids if _running(pid)]


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def test_the_failure_reason_names_the_host_that_failed_first(tp: TrainPlane, tmp_path: Path) -> None:
    tp.create_training_job(**two_hosts(script_job("who-failed", tmp_path, FAILING)))
    description = tp.wait_for_training_job("who-failed", timeout=120)
    assert "algo-2 lost its data" in description["FailureReason"]


FAILING_WITH_CHILDREN = """
    import os, subprocess, sys, time
    subprocess.Popen(["sleep", "997"])  # holds the host's stdout and stderr open
    if os.environ["SM_CURRENT_HOST"] == "algo-2":
        time.sleep(1)
        print("algo-2 failing now", flush=True)
        sys.exit(3)
    time.sleep(600)
"""


def test_a_failing_host_with_a_background_child_ends_the_job_promptly(tp: TrainPlane, tmp_path: Path) -> None:
    tp.create_training_job(**two_hosts(script_job("bg-fail", tmp_path, FAILING_WITH_CHILDREN)))
    description = tp.wait_for_training_job("bg-fail", timeout=120)
    assert description["TrainingJobStatus"] == "Failed"
    failed_at = next(e.timestamp for e in tp.log_events("bg-fail") if e.message == "algo-2 failing now")
    # Was over 10 s: each host's two output readers waited 5 s for the child to close its pipes.
    assert description["TrainingEndTime"].timestamp() - failed_at < 5


RUNNING_WITH_CHILDREN = """
    import os, subprocess, time
    child = subprocess.Popen(["sleep", "997"])
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "..", "..", "pids"), "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    print(os.environ["SM_CURRENT_HOST"], "ready", flush=True)
    time.sleep(600)
"""


def test_a_killed_agent_fails_the_job_naming_its_host_and_leaves_no_process(
    tp: TrainPlane, tmp_path: Path, home: Path
) -> None:
    tp.create_training_job(**two_hosts(script_job("agent-killed", tmp_path, RUNNING_WITH_CHILDREN)))
    deadline = time.monotonic() + 60
    while len([e for e in tp.log_events("agent-killed") if e.message.endswith(" ready")]) < 2:
        assert time.monotonic() < deadline, "the hosts never became ready"
        time.sleep(0.1)
    records = {r["host"]: r for r in tp._platform.store.attempts("agent-killed")[-1].hosts}
    attempt = home / "jobs" / "agent-killed" / "1"
    pids = [int(p) for host in records for p in (attempt / host / "pids").read_text().split()]
    os.kill(records["algo-2"]["pid"], signal.SIGKILL)
    started = time.monotonic()
    description = tp.wait_for_training_job("agent-killed", timeout=60)
    assert description["TrainingJobStatus"] == "Failed"
    reason = description["FailureReason"]
    assert reason.startswith("InternalServerError: Host algo-2 was lost: its agent process ended"), reason
    # Killed at once, not at the end of the grace period (10 s here), which the attempt did not wait for.
    assert time.monotonic() - started < 8
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_running(pid) for pid in pids):
        time.sleep(0.1)
    assert not [pid for pid in pids if _running(pid)]
