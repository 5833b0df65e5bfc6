"""Metric extraction from a job's log lines, the way SageMaker does it (§5.6).

SageMaker matches ``MetricDefinitions`` against the CloudWatch copy of the log, in which control
characters are syslog-escaped: a tab reads ``#011``. Built-in algorithm regexes depend on that
(XGBoost's ``...#011validation-rmse:...``), so lines are escaped the same way before matching.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple


def escape_for_scanning(line: str) -> str:
    """Syslog-style escaping: every control character (tab included) becomes ``#`` + 3 octal digits.

    Pass a line without its terminating newline; a ``\\r`` (progress bars) is escaped as ``#015``.
    """
    return line.translate(_ESCAPES)


# str.translate runs in C: the control plane escapes every output line it stores, thousands a second.
_ESCAPES = {code: f"#{code:03o}" for code in (*range(32), 127)}


class MetricPoint(NamedTuple):
    """One extracted value; ``timestamp`` is whatever the caller's clock gives (datetime or epoch)."""

    name: str
    value: float
    timestamp: Any


def regex_problem(name: str, regex: str) -> str | None:
    """Why ``regex`` cannot extract metric ``name`` (it does not compile, or has no group to capture the
    value), or None. The API refuses such a definition at create time (§3.10), the scanner never sees one."""
    try:
        pattern = re.compile(regex)
    except re.error as exc:
        return f"The Regex of metric '{name}' is not a valid regular expression: {exc}."
    if pattern.groups < 1:
        return f"The Regex of metric '{name}' has no capture group: the first group's match is the value."
    return None


class MetricScanner:
    """The job's MetricDefinitions, compiled once; :meth:`scan` gives the values found in a line.

    ``skip_invalid``: leave out definitions whose regex cannot extract a value (``regex_problem``) instead
    of raising ``ValueError``; for jobs stored before the API refused them, whose other metrics and whose
    run must go on (see ``skipped``).
    """

    def __init__(self, definitions: Sequence[Mapping[str, str]], *, skip_invalid: bool = False) -> None:
        self._finders: list[tuple[str, Callable[[str], re.Match[str] | None]]] = []
        self.skipped: list[str] = []
        for definition in definitions:
            name, regex = definition["Name"], definition["Regex"]
            problem = regex_problem(name, regex)
            if problem is not None:
                if not skip_invalid:
                    raise ValueError(problem)
                self.skipped.append(problem)
                continue
            pattern = re.compile(regex)
            # A regex that starts with ``.*`` (every built-in's does) finds with ``match`` exactly what
            # ``search`` finds, because scanned lines hold no newline (escaping turns it into #012): a
            # match starting later would also start at 0, the leading ``.*`` taking the prefix.
            # ``search`` retries the whole pattern at every position of a line that does not match,
            # which made scanning quadratic in the line's length.
            find = pattern.match if regex.startswith(".*") else pattern.search
            self._finders.append((name, find))

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._finders]

    def scan(self, line: str) -> list[tuple[str, float]]:
        """(name, value) for each definition whose regex matches; value = first capture group.

        The line is escaped here; escaping is idempotent, so an already escaped line scans the same.

        Captures that are not numbers, and NaN or infinities (which neither CloudWatch nor the JSON
        wire format can carry), are skipped rather than failing the job.
        """
        return self.scan_escaped(escape_for_scanning(line.rstrip("\n")))

    def scan_escaped(self, escaped: str) -> list[tuple[str, float]]:
        """:meth:`scan` of a line already passed through :func:`escape_for_scanning` (the control plane
        escapes each stored line once, for scanning and for progress counting)."""
        found: list[tuple[str, float]] = []
        for name, find in self._finders:
            match = find(escaped)
            if match is None or match.group(1) is None:
                continue
            value = _to_float(match.group(1))
            if value is not None:
                found.append((name, value))
        return found

    def scan_points(self, line: str, timestamp: Any) -> list[MetricPoint]:
        return [MetricPoint(name, value, timestamp) for name, value in self.scan(line)]


def _to_float(text: str) -> float | None:
    try:
        # float() would accept "1_000"; a log number never means that, so refuse underscores.
        value = float(text) if "_" not in text else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def final_metrics(points: Iterable[tuple[str, float, Any]]) -> list[dict[str, Any]]:
    """FinalMetricDataList: the last value emitted for each metric name, ordered by name."""
    last: dict[str, tuple[float, Any]] = {}
    for name, value, timestamp in points:
        last[name] = (value, timestamp)
    return [{"MetricName": name, "Value": last[name][0], "Timestamp": last[name][1]} for name in sorted(last)]
