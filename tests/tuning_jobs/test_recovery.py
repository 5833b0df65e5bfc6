"""Durability of the tuner: launch records survive a crash; a live owner is never second-guessed."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
from tuning_helpers import tuning_request
from tuning_rig import Rig, quadratic

from trainplane.control.tuner import Tuner
from trainplane.store.records import Controller


class Crash(Exception):
    pass


def test_a_launch_recorded_but_not_created_is_created_by_the_next_owner(rig: Rig, monkeypatch: Any) -> None:
    rig.create(tuning_request("crashy", rig.tmp_path, max_jobs=5, parallel=2, RandomSeed=3))
    real = rig.service.training.create_training_job

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise Crash

    monkeypatch.setattr(rig.service.training, "create_training_job", crash)
    with pytest.raises(Crash):
        rig.tuner.tick()  # dies between recording launch 1 and creating its training job
    recorded = rig.service.tuning_store.children("crashy")
    assert [c.created for c in recorded] == [False]
    assert rig.store.get_training_job(recorded[0].training_job_name) is None
    monkeypatch.setattr(rig.service.training, "create_training_job", real)
    rig.tuner = Tuner(rig.service, rig.clock, "tuner-b")  # tuner-a is not a live controller: adopted
    description = rig.run("crashy", quadratic)
    names = sorted(c["TrainingJobName"] for c in rig.children("crashy"))
    assert recorded[0].training_job_name in names
    assert [int(n.split("-")[1]) for n in names] == [1, 2, 3, 4, 5]
    assert description["TrainingJobStatusCounters"]["Completed"] == 5


def test_a_tuning_job_owned_by_a_live_control_plane_is_left_alone(rig: Rig) -> None:
    now = rig.clock.now()
    for owner in ("tuner-a", "tuner-b"):
        rig.store.register_controller(Controller(owner, socket.gethostname(), os.getpid(), now, now))
    rig.create(tuning_request("owned", rig.tmp_path, max_jobs=6, parallel=2))
    other = Tuner(rig.service, rig.clock, "tuner-b")
    rig.tuner.tick()
    other.tick()
    for job in rig.active():
        rig.report(job.name, 0.5)
        rig.finish(job.name)
    other.tick()
    assert len(rig.service.tuning_store.children("owned")) == 2, "tuner-b launched for tuner-a's job"
    rig.tuner.tick()
    assert len(rig.service.tuning_store.children("owned")) == 4
