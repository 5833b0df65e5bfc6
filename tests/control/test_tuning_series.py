"""The tuner's incremental reading of a running child's objective series."""

from __future__ import annotations

from trainplane.control.tuning_snapshot import SeriesCache
from trainplane.store import open_store
from trainplane.store.records import MetricPoint

REQUEST = {"AlgorithmSpecification": {"TrainingImage": "x", "TrainingInputMode": "File"}}


class CountingStore:
    """The real store, counting the points each read returns."""

    def __init__(self) -> None:
        self.store = open_store("sqlite://")
        self.returned = 0

    def metric_points_after(self, name: str, metric: str, after_id: int) -> list[tuple[int, MetricPoint]]:
        points = self.store.metric_points_after(name, metric, after_id)
        self.returned += len(points)
        return points


def test_each_point_is_read_once_and_the_series_is_the_first_hosts() -> None:
    counting = CountingStore()
    store = counting.store
    store.create_training_job(
        name="child", arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/child",
        request={**REQUEST, "TrainingJobName": "child"}, model_artifacts="s3://b/m.tar.gz", now=1.0,
    )  # fmt: skip
    store.add_metric_points(
        "child", [MetricPoint("obj", 0.9, 1.0, "algo-1"), MetricPoint("other", 5.0, 1.0, "algo-1")]
    )
    cache = SeriesCache()
    assert cache.read(counting, "child", "obj") == (0.9, [0.9])  # type: ignore[arg-type]
    store.add_metric_points(
        "child", [MetricPoint("obj", 0.8, 2.0, "algo-2"), MetricPoint("obj", 0.7, 2.0, "algo-1")]
    )
    assert cache.read(counting, "child", "obj") == (0.7, [0.9, 0.7])  # type: ignore[arg-type]
    assert cache.read(counting, "child", "obj") == (0.7, [0.9, 0.7])  # type: ignore[arg-type]
    assert counting.returned == 3  # 1, then the 2 new ones, then none
    cache.forget("child")
    assert cache.read(counting, "child", "obj") == (0.7, [0.9, 0.7])  # type: ignore[arg-type]
    assert counting.returned == 6  # forgotten: read again from the start
