"""Control planes on one store share its capacity: a job another one claimed to launch counts as in use
(the read of the capacity in use and the claims happen under ``Store.launch_lock``, tested with the
store contract)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from jobs_helpers import script_job
from trainplane import TrainPlane
from trainplane.settings import load_settings
from trainplane.store.records import Controller

CODE = """
    print("ran", flush=True)
"""


def test_a_job_another_control_plane_claimed_holds_its_capacity(tmp_path: Path) -> None:
    """The machine holds one ml.m5.large; job "a" was claimed by a live control plane that is launching
    it. This control plane must leave "b" queued, not launch it beside "a"."""
    settings = load_settings({"TRAINPLANE_HOME": str(tmp_path / "home")}).with_overrides(machine_cpus=2)
    with TrainPlane(settings=settings, run_jobs=False) as tp:
        tp.create_training_job(**script_job("a", tmp_path, CODE))
        tp.create_training_job(**script_job("b", tmp_path, CODE))
        store = tp._platform.store
        now = time.time()
        store.register_controller(Controller("other", socket.gethostname(), os.getpid(), now, now))
        assert store.claim("a", "other")
    with TrainPlane(settings=settings) as tp:
        time.sleep(3)  # several reconciler ticks
        b = tp.describe_training_job(TrainingJobName="b")
        assert (b["TrainingJobStatus"], b["SecondaryStatus"]) == ("InProgress", "Starting")
        assert tp._platform.store.attempts("b") == []
