"""``trainplane tuning ...`` and ``tune``'s options: what each asks of the API, and its exit codes."""

from __future__ import annotations

import pytest

from trainplane.cli.main import build_parser


@pytest.mark.parametrize("value", ["0", "-1"])
def test_tune_top_must_be_a_positive_integer(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["tune", "spec.yaml", "--top", value])
    assert exit_.value.code == 2
    assert f"--top: must be at least 1, got {value}" in capsys.readouterr().err
