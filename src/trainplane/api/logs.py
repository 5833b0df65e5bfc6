"""CloudWatch Logs' DescribeLogStreams and GetLogEvents over the store's job logs.

Each host of a job logs to the stream ``<job>/algo-<n>-<epoch>`` of the group
``/aws/sagemaker/TrainingJobs``, the names SageMaker uses, so the SDKs' log followers work unchanged.
Tokens are ``f/<event id>`` (events after it) and ``b/<event id>`` (events before it). As in CloudWatch,
a read that finds nothing new returns the token it was given: the SDKs poll with ``nextForwardToken``
until it stops changing or the job ends. Times on this API are epoch milliseconds. Messages are
syslog-escaped as in SageMaker's CloudWatch copy (``[0]#011train-auc:...``), which log parsers written
for SageMaker expect.
"""

from __future__ import annotations

import math
from typing import Any

from trainplane.api.errors import LogsInvalidParameter, LogsResourceNotFound
from trainplane.runtime.metrics import escape_for_scanning
from trainplane.service.validation import validate_input
from trainplane.store import Store
from trainplane.store.records import LogEvent

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
_CHUNK = 10_000  # events per store read
_NO_STREAM = "The specified log stream does not exist."


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _group(request: dict[str, Any], settings_arn_prefix: str) -> None:
    group = request.get("logGroupName") or request.get("logGroupIdentifier", "")
    if group.removeprefix(settings_arn_prefix) != LOG_GROUP:
        raise LogsResourceNotFound("The specified log group does not exist.")


class LogsService:
    """Logs operations; ``arn_prefix`` lets clients name the group by ARN (logGroupIdentifier)."""

    def __init__(self, store: Store, region: str, account_id: str) -> None:
        self.store = store
        self.region = region
        self.account_id = account_id
        self._arn_prefix = f"arn:aws:logs:{region}:{account_id}:log-group:"

    def describe_log_streams(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("DescribeLogStreams", params, service="logs")
        _group(request, self._arn_prefix)
        prefix = request.get("logStreamNamePrefix")
        order = request.get("orderBy", "LogStreamName")
        if prefix is None:
            # Streams are found through their job; listing every job's streams is not offered.
            raise LogsInvalidParameter("trainplane needs logStreamNamePrefix (<job>/) to list streams.")
        if order == "LastEventTime":
            raise LogsInvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        job = prefix.split("/", 1)[0]
        streams = [s for s in self.store.log_streams(job) if s[0].startswith(prefix)]
        streams.sort(key=lambda s: s[0], reverse=bool(request.get("descending")))
        offset = _offset(request.get("nextToken"))
        limit = request.get("limit", 50)
        page = streams[offset : offset + limit]
        result: dict[str, Any] = {"logStreams": [self._stream(*s) for s in page]}
        if offset + limit < len(streams):
            result["nextToken"] = f"o/{offset + limit}"
        return result

    def _stream(self, name: str, first: float, last: float) -> dict[str, Any]:
        return {
            "logStreamName": name,
            "creationTime": _ms(first),
            "firstEventTimestamp": _ms(first),
            "lastEventTimestamp": _ms(last),
            "lastIngestionTime": _ms(last),
            "arn": f"{self._arn_prefix}{LOG_GROUP}:log-stream:{name}",
            "storedBytes": 0,  # deprecated by CloudWatch too, which always reports 0
        }

    def get_log_events(self, params: dict[str, Any]) -> dict[str, Any]:
        request = validate_input("GetLogEvents", params, service="logs")
        _group(request, self._arn_prefix)
        stream = request["logStreamName"]
        job = stream.split("/", 1)[0]
        if stream not in {s[0] for s in self.store.log_streams(job)}:
            raise LogsResourceNotFound(_NO_STREAM)
        token = request.get("nextToken")
        direction, pivot = (
            _parse_token(token) if token else ("f" if request.get("startFromHead") else "b", -1)
        )
        window = (request.get("startTime", 0), request.get("endTime", math.inf))
        limit = request.get("limit", 10_000)
        if direction == "f":
            events = self._forward(job, stream, max(pivot, 0), window, limit)
        else:
            events = self._backward(job, stream, math.inf if pivot < 0 else pivot, window, limit)
        first_id = events[0].id if events else max(pivot, 0)
        last_id = events[-1].id if events else max(pivot, 0)
        if direction == "b" and not events and pivot < 0:
            first_id = last_id = self._last_id(job, stream)  # an empty tail read starts at the end
        return {
            "events": [
                {
                    "timestamp": _ms(e.timestamp),
                    "message": escape_for_scanning(e.message),  # CloudWatch's copy: a tab reads #011
                    "ingestionTime": _ms(e.timestamp),
                }
                for e in events
            ],
            "nextForwardToken": token if token and direction == "f" and not events else f"f/{last_id:020d}",
            "nextBackwardToken": token if token and direction == "b" and not events else f"b/{first_id:020d}",
        }

    def _scan(self, job: str, stream: str, after: int, window: tuple[float, float]) -> Any:
        """Events of one stream after ``after`` inside the time window, in order, read in chunks."""
        while True:
            chunk = self.store.log_events(job, stream=stream, after_id=after, limit=_CHUNK)
            for event in chunk:
                if window[0] <= _ms(event.timestamp) <= window[1]:
                    yield event
            if len(chunk) < _CHUNK:
                return
            after = chunk[-1].id

    def _forward(
        self, job: str, stream: str, after: int, window: tuple[float, float], limit: int
    ) -> list[LogEvent]:
        events = []
        for event in self._scan(job, stream, after, window):
            events.append(event)
            if len(events) == limit:
                break
        return events

    def _backward(
        self, job: str, stream: str, before: float, window: tuple[float, float], limit: int
    ) -> list[LogEvent]:
        """The ``limit`` events before ``before`` inside the window, oldest first, read newest-first in
        chunks (a tail read of a long stream reads what it returns, not the stream)."""
        events: list[LogEvent] = []
        size = min(_CHUNK, max(limit, 100))  # rows per read: about a page, since rows can be 1 MB lines
        while len(events) < limit:
            chunk = self.store.log_events_before(job, stream, before, size)
            events += [e for e in chunk if window[0] <= _ms(e.timestamp) <= window[1]][: limit - len(events)]
            if len(chunk) < size:
                break
            before = chunk[-1].id
        return events[::-1]

    def _last_id(self, job: str, stream: str) -> int:
        newest = self.store.log_events_before(job, stream, math.inf, 1)
        return newest[0].id if newest else 0


def _parse_token(token: str) -> tuple[str, int]:
    direction, _, number = token.partition("/")
    if direction not in ("f", "b") or not (number.isascii() and number.isdigit()) or len(number) > 20:
        raise LogsInvalidParameter("The specified nextToken is invalid.")
    return direction, int(number)


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    kind, _, number = token.partition("/")
    if kind != "o" or not (number.isascii() and number.isdigit()) or len(number) > 9:
        raise LogsInvalidParameter("The specified nextToken is invalid.")
    return int(number)
