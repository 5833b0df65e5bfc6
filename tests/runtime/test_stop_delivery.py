"""A stop notice reaches the algorithm even when it comes while the algorithm is still starting.

Inside the /opt/ml sandbox the process group first holds only ``env`` and ``bwrap``, which ignore
SIGTERM; a notice sent then was lost, and the job ran on until the grace period's SIGKILL.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from jobs_helpers import script_job
from trainplane import TrainPlane
from trainplane.runtime import process_group
from trainplane.runtime.agent import Agent


def started(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, start_new_session=True)


def test_a_group_that_ignores_sigterm_does_not_hear_it() -> None:
    deaf = started(["env", "--ignore-signal=TERM", "sleep", "60"])
    listening = started(["sleep", "60"])
    try:
        time.sleep(0.2)  # both exec'd
        assert process_group.members(deaf.pid) == [deaf.pid]
        assert not process_group.hears(deaf.pid, signal.SIGTERM)
        assert process_group.hears(listening.pid, signal.SIGTERM)
        assert process_group.hears(deaf.pid, signal.SIGINT)
    finally:
        for process in (deaf, listening):
            process.kill()
            process.wait()


def test_a_notice_sent_before_the_algorithm_listens_is_sent_again_once_it_does() -> None:
    agent = Agent.__new__(Agent)  # only the signalling half of an agent
    # Ignores SIGTERM for a second (as env and bwrap do), then becomes a process that acts on it.
    agent.child = started(
        ["env", "--ignore-signal=TERM", "sh", "-c", "sleep 1; exec env --default-signal=TERM sleep 600"]
    )
    try:
        time.sleep(0.2)
        agent._forward_sigterm()
        assert agent.child.wait(timeout=60) == -signal.SIGTERM
    finally:
        agent.child.kill()


CODE = """
    import time
    print("training", flush=True)
    time.sleep(600)
"""


def test_a_stop_right_after_create_ends_the_job_before_the_grace_period(tmp_path: Path) -> None:
    """With a 300 s grace period, a lost notice would leave each job running for 300 s."""
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home"), "TRAINPLANE_STOP_GRACE_SECONDS": "300"}
    with TrainPlane(environ=environ) as tp:
        for i in range(8):
            name = f"stopped-at-once-{i}"
            tp.create_training_job(**script_job(name, tmp_path, CODE))
            time.sleep(0.003 * i)  # a stop at another moment of the start each time
            tp.stop_training_job(TrainingJobName=name)
            description = tp.wait_for_training_job(name, timeout=120)
            assert description["TrainingJobStatus"] == "Stopped"
            statuses = [t["Status"] for t in description["SecondaryStatusTransitions"]]
            after_stop = statuses[statuses.index("Stopping") :]
            assert "Downloading" not in after_stop and "Training" not in after_stop, statuses
