"""One contract suite for every store backend: SQLite in memory, SQLite on disk, PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from trainplane.errors import ConflictError, ResourceInUse
from trainplane.states import JobStatus, Phase
from trainplane.store import Store, open_store
from trainplane.store.records import Attempt, Controller, MetricPoint

REQUEST = {
    "TrainingJobName": "job",
    "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
}


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite-memory":
        url = "sqlite://"
    elif request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        server = request.getfixturevalue("postgres_url")
        database = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(
            server.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {database}"))
        admin.dispose()
        url = server.rsplit("/", 1)[0] + f"/{database}"
    opened = open_store(url)
    yield opened
    opened.engine.dispose()


def create(store: Store, name: str = "job", now: float = 100.0, **kwargs: object) -> None:
    store.create_training_job(
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        request={**REQUEST, "TrainingJobName": name},
        model_artifacts=f"s3://b/out/{name}/output/model.tar.gz",
        now=now,
        **kwargs,  # type: ignore[arg-type]
    )


def test_created_job_reads_back_with_a_starting_transition(store: Store) -> None:
    create(store)
    job = store.get_training_job("job")
    assert job is not None
    assert (job.status, job.secondary_status, job.phase) == ("InProgress", "Starting", "queued")
    assert [(t.status, t.start_time, t.end_time) for t in job.transitions] == [("Starting", 100.0, None)]
    assert job.request["AlgorithmSpecification"]["TrainingImage"] == "img"


def test_duplicate_name_is_refused_and_the_first_job_is_untouched(store: Store) -> None:
    create(store, now=1.0)
    with pytest.raises(ResourceInUse, match="already exists"):
        create(store, now=2.0)
    job = store.get_training_job("job")
    assert job is not None and job.creation_time == 1.0


def test_returned_objects_are_copies(store: Store) -> None:
    create(store)
    job = store.get_training_job("job")
    assert job is not None
    job.request["AlgorithmSpecification"]["TrainingImage"] = "changed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.status = "Completed"  # type: ignore[misc]
    again = store.get_training_job("job")
    assert again is not None and again.request["AlgorithmSpecification"]["TrainingImage"] == "img"


def test_secondary_status_changes_close_the_previous_transition(store: Store) -> None:
    create(store)
    store.update_training_job("job", now=110.0, secondary="Downloading", message="Downloading input data")
    job = store.update_training_job("job", now=120.0, secondary="Training", message="Training")
    assert [(t.status, t.start_time, t.end_time) for t in job.transitions] == [
        ("Starting", 100.0, 110.0),
        ("Downloading", 110.0, 120.0),
        ("Training", 120.0, None),
    ]
    assert job.last_modified_time == 120.0


def test_terminal_jobs_are_immutable(store: Store) -> None:
    create(store)
    done = store.update_training_job(
        "job", now=130.0, status=JobStatus.COMPLETED.value, secondary="Completed", message="done"
    )
    assert done.transitions[-1].start_time == done.transitions[-1].end_time == 130.0
    with pytest.raises(ConflictError):
        store.update_training_job("job", now=140.0, secondary="Training")
    assert store.request_stop("job", reason="Stopped", now=150.0, message="Stopping") is None


def test_claim_is_a_compare_and_set(store: Store) -> None:
    create(store)
    assert store.claim("job", "controller-a")
    assert not store.claim("job", "controller-b")
    assert store.claim("job", "controller-b", previous="controller-a")
    job = store.get_training_job("job")
    assert job is not None and job.owner == "controller-b"


def test_owner_checked_updates_fail_for_the_wrong_owner(store: Store) -> None:
    create(store)
    store.claim("job", "a")
    with pytest.raises(ConflictError):
        store.update_training_job(
            "job", now=1.0, phase=Phase.RUNNING.value, expected_owner="b", check_owner=True
        )
    store.update_training_job("job", now=1.0, phase=Phase.RUNNING.value, expected_owner="a", check_owner=True)


def test_stop_request_moves_in_progress_to_stopping_once(store: Store) -> None:
    create(store)
    stopping = store.request_stop("job", reason="Stopped", now=105.0, message="Stopping the training job")
    assert stopping is not None
    assert (stopping.status, stopping.secondary_status, stopping.stop_reason) == (
        "Stopping",
        "Stopping",
        "Stopped",
    )
    assert store.request_stop("job", reason="Stopped", now=106.0, message="again") is None


def test_a_secondary_status_for_in_progress_does_not_follow_a_stop(store: Store) -> None:
    """A host's Downloading, read before the stop landed, keeps its start time but not its status."""
    create(store)
    store.request_stop("job", reason="Stopped", now=105.0, message="Stopping the training job")
    job = store.update_training_job(
        "job", now=106.0, secondary="Downloading", secondary_while="InProgress", training_start_time=104.0
    )
    assert (job.secondary_status, job.training_start_time) == ("Stopping", 104.0)
    assert [t.status for t in job.transitions][-1] == "Stopping"


def test_training_job_status_reads_the_current_status_alone(store: Store) -> None:
    assert store.training_job_status("job") is None
    create(store)
    assert store.training_job_status("job") == "InProgress"
    store.request_stop("job", reason="Stopped", now=105.0, message="Stopping the training job")
    assert store.training_job_status("job") == "Stopping"


def test_list_filters_sort_and_pages_without_overlap(store: Store) -> None:
    for index, name in enumerate(["alpha-1", "beta-2", "alpha-3", "gamma-4"]):
        create(store, name=name, now=float(index))
    store.update_training_job("beta-2", now=10.0, status="Failed", secondary="Failed", message="x")
    assert [j.name for j in store.list_training_jobs(name_contains="ALPHA", ascending=True)] == [
        "alpha-1",
        "alpha-3",
    ]
    assert [j.name for j in store.list_training_jobs(status_equals="Failed")] == ["beta-2"]
    assert [
        j.name for j in store.list_training_jobs(creation_after=0.5, creation_before=2.5, ascending=True)
    ] == [
        "beta-2",
        "alpha-3",
    ]
    first = store.list_training_jobs(sort_by="Name", ascending=True, limit=2)
    second = store.list_training_jobs(sort_by="Name", ascending=True, after=("alpha-3", "alpha-3"), limit=2)
    assert [j.name for j in first + second] == ["alpha-1", "alpha-3", "beta-2", "gamma-4"]


def test_delete_only_terminal_jobs_and_frees_the_name(store: Store) -> None:
    create(store)
    with pytest.raises(ResourceInUse):
        store.delete_training_job("job")
    store.update_training_job("job", now=1.0, status="Stopped", secondary="Stopped", message="x")
    store.add_metric_points("job", [MetricPoint("train:rmse", 1.0, 1.0, "algo-1")])
    assert store.delete_training_job("job")
    assert store.get_training_job("job") is None
    assert store.metric_points("job") == []
    create(store, now=5.0)
    assert store.get_training_job("job") is not None
    assert not store.delete_training_job("missing")


def test_attempts_round_trip(store: Store) -> None:
    create(store)
    hosts = [{"host": "algo-1", "pid": 42, "root": "/x"}]
    store.add_attempt(Attempt("job", 1, "running", 10.0, None, None, None, None, "local", hosts))
    store.update_attempt("job", 1, status="succeeded", start_time=11.0, end_time=20.0, exit_code=0)
    [attempt] = store.attempts("job")
    assert (attempt.status, attempt.start_time, attempt.end_time, attempt.exit_code) == (
        "succeeded",
        11.0,
        20.0,
        0,
    )
    assert attempt.hosts == hosts


def test_ingested_lines_and_metrics_are_kept_in_order(store: Store) -> None:
    create(store)
    stream = "job/algo-1-100"
    store.ingest_output(
        "job", stream, [(1.0, "first"), (2.0, "second")], [MetricPoint("m", 0.5, 2.0, "algo-1")]
    )
    store.ingest_output("job", stream, [(3.0, "third")], [MetricPoint("m", 0.25, 3.0, "algo-1")])
    events = store.log_events("job")
    assert [e.message for e in events] == ["first", "second", "third"]
    assert [e.message for e in store.log_events("job", after_id=events[0].id)] == ["second", "third"]
    assert store.count_log_events("job", stream) == 3
    assert store.log_streams("job") == [(stream, 1.0, 3.0)]
    assert [p.value for p in store.metric_points("job")] == [0.5, 0.25]


def test_tags_merge_by_key(store: Store) -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:training-job/job"
    create(store, tags=[{"Key": "team", "Value": "a"}])
    store.add_tags(arn, [{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}])
    assert store.list_tags(arn) == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}]
    store.delete_tags(arn, ["env"])
    assert store.list_tags(arn) == [{"Key": "team", "Value": "b"}]


def test_controllers_register_heartbeat_and_leave(store: Store) -> None:
    store.register_controller(Controller("c1", "host", 1, 1.0, 1.0))
    store.heartbeat("c1", 5.0)
    assert [(c.id, c.heartbeat) for c in store.controllers()] == [("c1", 5.0)]
    create(store)
    store.claim("job", "c1")
    assert [j.name for j in store.jobs_owned_by_others("c2")] == ["job"]
    assert store.jobs_owned_by_others("c1") == []
    store.remove_controller("c1")
    assert store.controllers() == []


def test_data_survives_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    first = open_store(url)
    create(first)
    first.engine.dispose()
    second = open_store(url)
    job = second.get_training_job("job")
    assert job is not None and job.status == "InProgress"


def test_processes_opening_a_new_database_at_once_do_not_race_the_migration(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'race.db'}"
    code = f"from trainplane.store import open_store; open_store({url!r})"
    processes = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors


def test_a_forced_transition_records_a_repeated_status_with_its_new_message(store: Store) -> None:
    create(store)
    job = store.update_training_job(
        "job", now=110.0, secondary="Starting", message="retry 1", new_transition=True
    )
    assert [(t.status, t.message) for t in job.transitions] == [
        ("Starting", "Starting the training job"),
        ("Starting", "retry 1"),
    ]
    unchanged = store.update_training_job("job", now=120.0, secondary="Starting", message="ignored")
    assert len(unchanged.transitions) == 2


def test_final_metric_points_are_each_metrics_last_in_order_of_first_appearance(store: Store) -> None:
    create(store)
    points = [
        MetricPoint("train:loss", 0.9, 1.0, "algo-1"),
        MetricPoint("validation:loss", 1.0, 1.0, "algo-1"),
        MetricPoint("train:loss", 0.5, 2.0, "algo-2"),
        MetricPoint("extra", 7.0, 2.5, "algo-1"),
        MetricPoint("validation:loss", 0.6, 3.0, "algo-1"),
    ]
    store.add_metric_points("job", points)
    names = ["validation:loss", "extra", "train:loss", "never-seen"]
    assert store.final_metric_points("job", names, 10) == [points[2], points[4], points[3]]
    assert store.final_metric_points("job", names, 2) == [points[2], points[4]]
    assert store.final_metric_points("job", ["extra"], 10) == [points[3]]
    assert store.final_metric_points("other", names, 10) == []
    assert store.last_metric_point("job", "train:loss") == points[2]
    assert store.last_metric_point("job", "never-seen") is None


def test_metric_points_after_an_id_are_one_metrics_newer_points(store: Store) -> None:
    create(store)
    store.add_metric_points(
        "job", [MetricPoint("loss", 1.0, 1.0, "algo-1"), MetricPoint("acc", 0.5, 1.0, "algo-1")]
    )
    first = store.metric_points_after("job", "loss", 0)
    assert [p for _, p in first] == [MetricPoint("loss", 1.0, 1.0, "algo-1")]
    store.add_metric_points("job", [MetricPoint("loss", 0.5, 2.0, "algo-2")])
    newer = store.metric_points_after("job", "loss", first[-1][0])
    assert [p for _, p in newer] == [MetricPoint("loss", 0.5, 2.0, "algo-2")]
    assert store.metric_points_after("job", "loss", newer[-1][0]) == []


def test_the_launch_lock_excludes_another_store_on_the_same_database(store: Store) -> None:
    other = open_store(store.engine.url.render_as_string(hide_password=False))
    entered = threading.Event()

    def take() -> None:
        with other.launch_lock():
            entered.set()

    try:
        with store.launch_lock():
            waiter = threading.Thread(target=take)
            waiter.start()
            assert not entered.wait(0.5)  # held here: the other store waits
        assert entered.wait(10)  # released: it gets in
        waiter.join(timeout=10)
    finally:
        other.engine.dispose()
