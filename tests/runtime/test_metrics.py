"""Metric scanning with SageMaker's #011 escaping, on literal built-in algorithm log lines."""

from __future__ import annotations

import math

import pytest

from trainplane.runtime.metrics import MetricPoint, MetricScanner, escape_for_scanning, final_metrics

NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
XGBOOST = [
    {"Name": "train:rmse", "Regex": r".*\[[0-9]+\].*#011train-rmse:" + NUMBER + ".*"},
    {"Name": "validation:rmse", "Regex": r".*\[[0-9]+\].*#011validation-rmse:" + NUMBER + ".*"},
]
LINEAR_LEARNER = [
    {
        "Name": "validation:objective_loss",
        "Regex": r"#quality_metric: host=\S+, epoch=\S+, validation \S+_objective <loss>=(\S+)",
    },
    {"Name": "validation:mse", "Regex": r"#quality_metric: host=\S+, validation mse <loss>=(\S+)"},
    {"Name": "test:recall", "Regex": r"#quality_metric: host=\S+, test recall <score>=(\S+)"},
    {"Name": "train:progress", "Regex": r"#progress_metric: host=\S+, completed (\S+) %"},
]


def test_tab_becomes_011_and_other_control_characters_octal() -> None:
    assert escape_for_scanning("[12]\ttrain-rmse:1.19876") == "[12]#011train-rmse:1.19876"
    assert escape_for_scanning("a\rb\x1bc\x7f") == "a#015b#033c#177"
    assert escape_for_scanning("plain, ünïcode") == "plain, ünïcode"


def test_xgboost_round_line_yields_train_and_validation_rmse() -> None:
    scanner = MetricScanner(XGBOOST)
    line = "[12]\ttrain-rmse:1.19876\tvalidation-rmse:2.31553\n"
    assert scanner.scan(line) == [("train:rmse", 1.19876), ("validation:rmse", 2.31553)]


def test_escaping_is_idempotent_so_pre_escaped_lines_scan_the_same() -> None:
    line = "[12]\ttrain-rmse:1.19876\tvalidation-rmse:2.31553"
    assert escape_for_scanning(escape_for_scanning(line)) == escape_for_scanning(line)
    assert MetricScanner(XGBOOST).scan(escape_for_scanning(line)) == MetricScanner(XGBOOST).scan(line)


def test_xgboost_regex_needs_the_escaping() -> None:
    scanner = MetricScanner(XGBOOST)
    assert scanner.scan("[3] train-rmse:1.0 validation-rmse:2.0") == []


def test_linear_learner_lines() -> None:
    scanner = MetricScanner(LINEAR_LEARNER)
    epoch = (
        "#quality_metric: host=algo-1, epoch=14, "
        "validation binary_classification_cross_entropy_objective <loss>=0.2024"
    )
    assert scanner.scan(epoch) == [("validation:objective_loss", 0.2024)]
    assert scanner.scan("#quality_metric: host=algo-1, validation mse <loss>=13.72") == [
        ("validation:mse", 13.72)
    ]
    assert scanner.scan("#quality_metric: host=algo-1, test recall <score>=1.0") == [("test:recall", 1.0)]
    assert scanner.scan("#progress_metric: host=algo-1, completed 100 % of epochs") == [
        ("train:progress", 100.0)
    ]


@pytest.mark.parametrize(
    ("regex", "line", "value"),
    [
        (r".*loss=([0-9.]+)", "loss=1 then loss=2", 2.0),  # greedy .*: the last occurrence, as search
        (r".*?loss=([0-9.]+)", "loss=1 then loss=2", 1.0),  # lazy .*?: the first
        (r"loss=([0-9.]+)", "step 3 loss=0.5", 0.5),  # no leading .*: found anywhere in the line
        (r".*\[[0-9]+\].*#011rmse:([0-9.]+)", "x [1] y\trmse:0.5\tz [2]\trmse:0.25", 0.25),
    ],
)
def test_a_leading_dot_star_regex_finds_what_search_finds(regex: str, line: str, value: float) -> None:
    assert MetricScanner([{"Name": "m", "Regex": regex}]).scan(line) == [("m", value)]


def test_non_numeric_and_non_finite_captures_are_ignored() -> None:
    scanner = MetricScanner([{"Name": "loss", "Regex": r"loss=(\S+)"}])
    assert scanner.scan("loss=abc") == []
    assert scanner.scan("loss=nan") == []
    assert scanner.scan("loss=inf") == [] and scanner.scan("loss=-Infinity") == []
    assert scanner.scan("loss=1_000") == []
    assert scanner.scan("loss=-1.5e-3") == [("loss", -0.0015)]


def test_optional_group_that_did_not_participate_is_ignored() -> None:
    scanner = MetricScanner([{"Name": "m", "Regex": r"m(?:=(\d+))?"}])
    assert scanner.scan("m") == []


@pytest.mark.parametrize("regex", ["loss=([0-9", "loss=[0-9]+"])
def test_bad_regex_raises_value_error_naming_the_metric(regex: str) -> None:
    with pytest.raises(ValueError, match="my:metric"):
        MetricScanner([{"Name": "my:metric", "Regex": regex}])


def test_final_metrics_keeps_the_last_value_per_name_with_its_timestamp() -> None:
    scanner = MetricScanner(XGBOOST)
    points: list[MetricPoint] = []
    for t, line in enumerate(
        ["[0]\ttrain-rmse:3.5\tvalidation-rmse:4.5", "[1]\ttrain-rmse:2.5\tvalidation-rmse:3.25"]
    ):
        points += scanner.scan_points(line, timestamp=100.0 + t)
    assert final_metrics(points) == [
        {"MetricName": "train:rmse", "Value": 2.5, "Timestamp": 101.0},
        {"MetricName": "validation:rmse", "Value": 3.25, "Timestamp": 101.0},
    ]
    assert final_metrics([("a", 1.0, 1), ("a", 2.0, 2)]) == [
        {"MetricName": "a", "Value": 2.0, "Timestamp": 2}
    ]
    assert final_metrics([]) == []
    assert not math.isnan(final_metrics(points)[0]["Value"])


def test_a_scanner_that_skips_invalid_definitions_keeps_the_others_and_says_why() -> None:
    scanner = MetricScanner(
        [{"Name": "broken", "Regex": "x=(("}, {"Name": "loss", "Regex": r"loss=(\S+)"}], skip_invalid=True
    )
    assert scanner.names == ["loss"]
    assert scanner.scan("x=1 loss=0.5") == [("loss", 0.5)]
    assert len(scanner.skipped) == 1 and "'broken'" in scanner.skipped[0]
