"""Metric extraction throughput: trainplane's MetricScanner against plain ``re.search`` per definition.

    .venv/bin/python benchmarks/metric_scanning.py [--lines 20000]

The control plane scans every output line of a job against the job's MetricDefinitions. Definitions:
the built-in XGBoost's, as many as a job may have (40). Lines: XGBoost round lines (which match), and
framework log lines of ~70 characters (which match none). The peer is the straightforward scan,
``re.search`` of each compiled definition on the escaped line, which is what SageMaker's regex semantics
call for; both must find the same (name, value) pairs, which the script checks.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

from trainplane.algorithms.registry import MAX_METRIC_DEFINITIONS
from trainplane.algorithms.xgboost import metric_definitions
from trainplane.runtime.metrics import MetricScanner, escape_for_scanning


def search_scanner(definitions: list[dict[str, str]]) -> Callable[[str], list[tuple[str, float]]]:
    patterns = [(d["Name"], re.compile(d["Regex"])) for d in definitions]

    def scan(line: str) -> list[tuple[str, float]]:
        escaped = escape_for_scanning(line)
        found = []
        for name, pattern in patterns:
            match = pattern.search(escaped)
            if match is not None and match.group(1) is not None:
                found.append((name, float(match.group(1))))
        return found

    return scan


def lines_per_second(scan: Callable[[str], list[tuple[str, float]]], lines: list[str]) -> float:
    start = time.perf_counter()
    for line in lines:
        scan(line)
    return len(lines) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    args = parser.parse_args()
    definitions = metric_definitions()[:MAX_METRIC_DEFINITIONS]
    corpora = {
        "XGBoost round lines": [
            f"[{i}]\ttrain-rmse:0.{i % 997:03d}\tvalidation-rmse:0.{i % 991:03d}" for i in range(args.lines)
        ],
        "other log lines (~70 chars)": [
            f"epoch {i} step {i * 3} loss=0.{i} some other log text here from a framework"
            for i in range(args.lines)
        ],
    }
    scanner, peer = MetricScanner(definitions), search_scanner(definitions)
    print(f"{len(definitions)} definitions, {args.lines} lines each")
    print("| lines | MetricScanner (lines/s) | re.search (lines/s) | ratio |")
    print("|---|---|---|---|")
    for label, lines in corpora.items():
        mismatched = [line for line in lines[:2000] if scanner.scan(line) != peer(line)]
        if mismatched:
            raise SystemExit(f"results differ, e.g. on {mismatched[0]!r}")
        ours, theirs = lines_per_second(scanner.scan, lines), lines_per_second(peer, lines)
        print(f"| {label} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.1f}x |")


if __name__ == "__main__":
    main()
