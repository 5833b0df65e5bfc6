"""A script job's requirements.txt is pip-installed before the script runs, into an environment of the
job's own that sees the server's packages: met requirements are not installed again, new ones never
reach the server's Python, and a failing install fails the job with the toolkit's error."""

from __future__ import annotations

import importlib.util
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from jobs_helpers import script_job
from trainplane import TrainPlane

pytestmark = pytest.mark.slow
PACKAGE = "tp_req_demo"


def _wheel() -> bytes:
    """A pure-Python wheel made here, so that pip installs without an index."""
    info = f"{PACKAGE}-0.1.dist-info"
    files = {
        f"{PACKAGE}/__init__.py": "VALUE = 42\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: tp-req-demo\nVersion: 0.1\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _source(directory: Path, requirements: str, with_wheel: bool) -> str:
    members = {
        "train.py": f"import sys, numpy, {PACKAGE}\nprint('value', {PACKAGE}.VALUE, sys.prefix)\n".encode(),
        "requirements.txt": requirements.encode(),
    }
    if with_wheel:
        members["tp_req_demo-0.1-py3-none-any.whl"] = _wheel()
    directory.mkdir(parents=True)
    with tarfile.open(directory / "sourcedir.tar.gz", "w:gz") as tar:
        for name, data in members.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return f"file://{directory}/sourcedir.tar.gz"


def test_requirements_are_installed_for_the_job_only(tmp_path: Path) -> None:
    ok = _source(tmp_path / "ok", "numpy\n./tp_req_demo-0.1-py3-none-any.whl\n", with_wheel=True)
    broken = _source(tmp_path / "broken", "./missing-0.1-py3-none-any.whl\n", with_wheel=False)
    with TrainPlane(home=tmp_path / "home") as tp:
        for name, uri in (("with-reqs", ok), ("bad-reqs", broken)):
            request = script_job(name, tmp_path, "")
            request["HyperParameters"] = {
                "sagemaker_program": '"train.py"',
                "sagemaker_submit_directory": f'"{uri}"',
            }
            tp.create_training_job(**request)
        done = {name: tp.wait_for_training_job(name, timeout=240) for name in ("with-reqs", "bad-reqs")}
        lines = [e.message for e in tp.log_events("with-reqs")]
    assert done["with-reqs"]["TrainingJobStatus"] == "Completed", done["with-reqs"].get("FailureReason")
    assert any(line.startswith("Requirement already satisfied: numpy") for line in lines)  # the server's
    value = next(line for line in lines if line.startswith("value "))
    assert value.split()[1] == "42" and "with-reqs" in value.split()[2]  # the job's own environment
    assert importlib.util.find_spec(PACKAGE) is None  # the server's Python is untouched
    assert done["bad-reqs"]["TrainingJobStatus"] == "Failed"
    reason = done["bad-reqs"]["FailureReason"]
    assert reason.startswith("AlgorithmError: InstallRequirementsError:\nExitCode 1")
    message = reason.split('ErrorMessage "', 1)[1]
    assert "missing-0.1-py3-none-any.whl" in message  # pip's stderr ...
    assert "Looking in" not in message and "Processing" not in message  # ... without its progress
    failure = tp.settings.jobs_root / "bad-reqs" / "1" / "algo-1" / "output" / "failure"
    assert failure.read_text().startswith("InstallRequirementsError:")  # as the toolkit writes it


def test_a_command_jobs_pip_installs_into_the_jobs_own_python(tmp_path: Path) -> None:
    # SDK v3's driver (a ContainerEntrypoint command) runs pip itself with the python3 on its PATH.
    wheel = tmp_path / "tp_req_demo-0.1-py3-none-any.whl"
    wheel.write_bytes(_wheel())
    shell = (
        f"python3 -m pip install --no-input --disable-pip-version-check {wheel} && "
        f"python3 -c 'import sys, numpy, {PACKAGE}; print(\"value\", {PACKAGE}.VALUE, sys.prefix)'"
    )
    request = script_job("pip-command", tmp_path, "")
    request["HyperParameters"] = {}
    request["AlgorithmSpecification"].update(
        ContainerEntrypoint=["/bin/sh", "-c"], ContainerArguments=[shell]
    )
    with TrainPlane(home=tmp_path / "home") as tp:
        tp.create_training_job(**request)
        description = tp.wait_for_training_job("pip-command", timeout=240)
        lines = [e.message for e in tp.log_events("pip-command")]
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    value = next(line for line in lines if line.startswith("value "))
    assert value.split()[1] == "42" and "pip-command" in value.split()[2]
    assert importlib.util.find_spec(PACKAGE) is None
