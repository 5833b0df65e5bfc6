"""CloudWatch Logs over the store: stream listing and CloudWatch's token semantics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_rig import make_platform
from requests_data import training_request

from trainplane.api.errors import LogsInvalidParameter, LogsResourceNotFound
from trainplane.api.logs import LOG_GROUP, LogsService
from trainplane.platform import Platform

JOB = "logs-job"
STREAM = f"{JOB}/algo-1-1700000000"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    platform = make_platform(tmp_path)
    platform.training.create_training_job(training_request(JOB))
    platform.store.append_log_events(JOB, STREAM, [(1000.0 + i, f"line {i}") for i in range(5)])
    yield platform
    platform.close()


@pytest.fixture
def logs(platform: Platform) -> LogsService:
    return LogsService(platform.store, "us-east-1", "123456789012")


def _get(logs: LogsService, **params: object) -> dict:
    return logs.get_log_events({"logGroupName": LOG_GROUP, "logStreamName": STREAM, **params})


def test_streams_are_listed_by_job_prefix_in_milliseconds(logs: LogsService, platform: Platform) -> None:
    platform.store.append_log_events(JOB, f"{JOB}/algo-2-1700000000", [(1001.0, "other host")])
    result = logs.describe_log_streams({"logGroupName": LOG_GROUP, "logStreamNamePrefix": f"{JOB}/"})
    streams = result["logStreams"]
    assert [s["logStreamName"] for s in streams] == [STREAM, f"{JOB}/algo-2-1700000000"]
    assert streams[0]["firstEventTimestamp"] == 1_000_000 and streams[0]["lastEventTimestamp"] == 1_004_000


def test_stream_listing_pages_with_next_token(logs: LogsService, platform: Platform) -> None:
    platform.store.append_log_events(JOB, f"{JOB}/algo-2-1700000000", [(1001.0, "other host")])
    request = {"logGroupName": LOG_GROUP, "logStreamNamePrefix": f"{JOB}/", "limit": 1}
    first = logs.describe_log_streams(request)
    second = logs.describe_log_streams({**request, "nextToken": first["nextToken"]})
    assert [s["logStreamName"] for s in first["logStreams"] + second["logStreams"]] == [
        STREAM,
        f"{JOB}/algo-2-1700000000",
    ]
    assert "nextToken" not in second


def test_other_log_groups_do_not_exist(logs: LogsService) -> None:
    with pytest.raises(LogsResourceNotFound):
        logs.describe_log_streams({"logGroupName": "/aws/lambda/x", "logStreamNamePrefix": f"{JOB}/"})


def test_reading_from_head_returns_every_event_in_order(logs: LogsService) -> None:
    result = _get(logs, startFromHead=True)
    assert [e["message"] for e in result["events"]] == [f"line {i}" for i in range(5)]
    assert result["events"][0]["timestamp"] == 1_000_000


def test_the_forward_token_repeats_until_new_events_arrive(logs: LogsService, platform: Platform) -> None:
    first = _get(logs, startFromHead=True)
    idle = _get(logs, startFromHead=True, nextToken=first["nextForwardToken"])
    assert idle["events"] == [] and idle["nextForwardToken"] == first["nextForwardToken"]
    platform.store.append_log_events(JOB, STREAM, [(1010.0, "late line")])
    later = _get(logs, startFromHead=True, nextToken=idle["nextForwardToken"])
    assert [e["message"] for e in later["events"]] == ["late line"]
    assert later["nextForwardToken"] != first["nextForwardToken"]


def test_limit_pages_forward_without_losing_or_repeating(logs: LogsService) -> None:
    seen, token = [], None
    for _ in range(4):
        page = _get(logs, startFromHead=True, limit=2, **({"nextToken": token} if token else {}))
        seen += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
    assert seen == [f"line {i}" for i in range(5)]


def test_start_time_is_inclusive(logs: LogsService) -> None:
    result = _get(logs, startFromHead=True, startTime=1_003_000)
    assert [e["message"] for e in result["events"]] == ["line 3", "line 4"]


def test_without_start_from_head_the_tail_is_returned(logs: LogsService) -> None:
    tail = _get(logs, limit=2)
    assert [e["message"] for e in tail["events"]] == ["line 3", "line 4"]
    before = _get(logs, limit=2, nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in before["events"]] == ["line 1", "line 2"]


def test_paging_back_from_the_tail_reads_a_page_per_page(
    logs: LogsService, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every event once, newest page first; each page reads about a page of rows, not the stream."""
    platform.store.append_log_events(JOB, STREAM, [(2000.0 + i, f"more {i}") for i in range(2500)])
    store_reads: list[int] = []
    for method in ("log_events", "log_events_before"):
        original = getattr(platform.store, method)

        def counted(*args: object, _original: object = original, **kwargs: object) -> list:
            rows = _original(*args, **kwargs)  # type: ignore[operator]
            store_reads.append(len(rows))
            return rows

        monkeypatch.setattr(platform.store, method, counted)
    pages, token = [], None
    while True:
        page = _get(logs, limit=100, **({"nextToken": token} if token else {}))
        if not page["events"]:
            break
        pages.append([e["message"] for e in page["events"]])
        token = page["nextBackwardToken"]
    expected = [f"line {i}" for i in range(5)] + [f"more {i}" for i in range(2500)]
    assert [m for page in reversed(pages) for m in page] == expected
    assert len(pages) == 26 and max(store_reads) <= 100  # 2505 events: 25 full pages and 5 more


def test_bad_tokens_and_unknown_streams_are_refused(logs: LogsService) -> None:
    with pytest.raises(LogsInvalidParameter):
        _get(logs, nextToken="x/1")
    with pytest.raises(LogsInvalidParameter):
        _get(logs, nextToken="f/\u00b2")  # a non-ASCII digit must not reach int()
    with pytest.raises(LogsResourceNotFound):
        logs.get_log_events({"logGroupName": LOG_GROUP, "logStreamName": f"{JOB}/algo-9-1"})
