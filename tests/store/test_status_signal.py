"""Waiters on a job's status are woken by the store when a status changes through it (an update that sets
a status, a stop request, a deletion), and not by other updates; a change made between reading the
generation and waiting is never missed."""

from __future__ import annotations

import threading
import time

from trainplane.store import open_store
from trainplane.store.signals import StatusSignal

REQUEST = {
    "TrainingJobName": "job",
    "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
}


def test_a_wait_returns_when_notified_from_another_thread() -> None:
    signal = StatusSignal()
    seen = signal.generation()
    timer = threading.Timer(0.05, signal.notify)
    timer.start()
    started = time.monotonic()
    assert signal.wait(seen, timeout=30) is True
    assert time.monotonic() - started < 30  # woken, not timed out
    timer.join()


def test_a_wait_without_a_change_times_out() -> None:
    signal = StatusSignal()
    assert signal.wait(signal.generation(), timeout=0.01) is False


def test_a_change_before_the_wait_is_not_missed() -> None:
    signal = StatusSignal()
    seen = signal.generation()
    signal.notify()  # e.g. the job finished between reading its status and waiting
    assert signal.wait(seen, timeout=0) is True
    assert signal.generation() == seen + 1


def test_the_store_signals_status_changes_stops_and_deletions_only() -> None:
    store = open_store("sqlite://")
    store.create_training_job(
        name="job",
        arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/job",
        request=REQUEST,
        model_artifacts="s3://b/out/job/output/model.tar.gz",
        now=1.0,
    )
    signal = store.status_changes
    before = signal.generation()
    store.update_training_job("job", now=2.0, secondary="Downloading")
    assert signal.generation() == before  # a secondary status alone: TrainingJobStatus is unchanged
    store.request_stop("job", reason="user", now=3.0, message="Stopping")
    assert signal.generation() == before + 1
    store.update_training_job("job", now=4.0, status="Stopped", secondary="Stopped")
    assert signal.generation() == before + 2
    store.delete_training_job("job")
    assert signal.generation() == before + 3
    store.engine.dispose()
