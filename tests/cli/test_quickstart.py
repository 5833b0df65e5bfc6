"""The README's main job: `trainplane quickstart` trains built-in XGBoost and scores the model."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_quickstart_trains_and_scores_a_model(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainplane.cli.main",
            "--home",
            str(tmp_path),
            "quickstart",
            "--rounds",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Completed. Model: s3://trainplane-quickstart/" in result.stdout
    match = re.search(r"accuracy (\d\.\d+), AUC (\d\.\d+)", result.stdout)
    assert match is not None, result.stdout
    accuracy, auc = map(float, match.groups())
    assert accuracy > 0.9 and auc > 0.95
    assert list((tmp_path / "s3" / "trainplane-quickstart").rglob("model.tar.gz"))
