"""The README's examples run as written (paths moved into a temporary directory)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_example(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- readme-example: {marker} -->\s*```bash\n(.*?)```", text, re.DOTALL)
    if match is None:
        raise AssertionError(f"README example {marker} not found")
    return match.group(1)


@pytest.mark.slow
def test_readme_script_job_example_completes(tmp_path: Path) -> None:
    script = readme_example("script-job").replace("/tmp/tp-example", str(tmp_path))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    description = json.loads(result.stdout[result.stdout.index("{\n") :])
    assert description["TrainingJobStatus"] == "Completed"
    [metric] = description["FinalMetricDataList"]
    assert metric["MetricName"] == "train:rmse" and 0 < metric["Value"] < 0.1
    assert (tmp_path / "output" / "ridge-example" / "output" / "model.tar.gz").exists()


@pytest.mark.slow
def test_readme_tuning_example_completes_with_four_children(tmp_path: Path) -> None:
    training = readme_example("script-job").replace("/tmp/tp-example", str(tmp_path))
    tuning = readme_example("tune-job").replace("/tmp/tp-example", str(tmp_path))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", training + tuning],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    description = json.loads(result.stdout[result.stdout.rindex('{\n  "HyperParameterTuningJobName"') :])
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert description["TrainingJobStatusCounters"]["Completed"] == 4
    best = description["BestTrainingJob"]
    assert best["TrainingJobName"].startswith("ridge-tuning-")
    assert float(best["TunedHyperParameters"]["alpha"]) < 100
