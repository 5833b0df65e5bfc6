"""The /opt/ml sandbox: argument recipe, a real run under bubblewrap, and signal delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from trainplane.runtime.sandbox import sandbox_available, wrap_with_opt_ml

UNAVAILABLE = sandbox_available()


def require_sandbox() -> None:
    # scripts/setup.sh installs bubblewrap: a missing sandbox is a set-up failure, not a reason to skip.
    assert UNAVAILABLE is None, f"no /opt/ml sandbox: {UNAVAILABLE}"


def test_recipe_rebinds_opt_entries_on_a_tmpfs(tmp_path: Path) -> None:
    host_opt = tmp_path / "opt"
    (host_opt / "tool").mkdir(parents=True)
    (host_opt / "latest").symlink_to("tool")
    command = wrap_with_opt_ml(["python", "t.py"], tmp_path / "root", host_opt=host_opt)
    middle = command[command.index("bwrap") + 1 : command.index("--")]
    assert middle == [
        "--dev-bind", "/", "/",
        "--tmpfs", "/opt",
        "--symlink", "tool", "/opt/latest",
        "--dev-bind", str(host_opt / "tool"), "/opt/tool",
        "--bind", str((tmp_path / "root").resolve()), "/opt/ml",
        "--die-with-parent",
    ]  # fmt: skip
    assert command[:3] == ["env", "--ignore-signal=TERM", "--ignore-signal=INT"]
    assert command[-5:] == ["env", "--default-signal=TERM", "--default-signal=INT", "python", "t.py"]


def test_recipe_binds_straight_over_an_existing_opt_ml(tmp_path: Path) -> None:
    (tmp_path / "opt" / "ml").mkdir(parents=True)
    command = wrap_with_opt_ml(["true"], tmp_path / "root", host_opt=tmp_path / "opt")
    assert "--tmpfs" not in command


def test_unavailable_reasons(tmp_path: Path) -> None:
    assert sandbox_available(bwrap="no-such-bwrap-binary") == "bubblewrap (bwrap) is not installed"
    if UNAVAILABLE is None:
        assert "does not exist" in (sandbox_available(host_opt=tmp_path / "missing") or "")


def test_command_in_sandbox_sees_and_writes_the_root_at_opt_ml(tmp_path: Path) -> None:
    require_sandbox()
    root = tmp_path / "root"
    (root / "input" / "config").mkdir(parents=True)
    (root / "input" / "config" / "hyperparameters.json").write_text('{"a": "1"}')
    opt_before = sorted(os.listdir("/opt"))
    script = (
        "cat /opt/ml/input/config/hyperparameters.json && mkdir -p /opt/ml/model && echo m > /opt/ml/model/x"
    )
    result = subprocess.run(
        wrap_with_opt_ml(["/bin/bash", "-c", script], root), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"a": "1"}'
    assert (root / "model" / "x").read_text() == "m\n"
    assert sorted(os.listdir("/opt")) == opt_before  # no mount point left behind on the host


def test_exit_status_passes_through(tmp_path: Path) -> None:
    require_sandbox()
    assert subprocess.run(wrap_with_opt_ml(["/bin/sh", "-c", "exit 3"], tmp_path), timeout=30).returncode == 3


HANDLER = """
import signal, sys, time
def stop(signum, frame):
    time.sleep(0.5)  # a handler that takes time (saving a model) must not be cut short
    open("/opt/ml/stopped", "w").write("saved")
    sys.exit(7)
signal.signal(signal.SIGTERM, stop)
open("/opt/ml/started", "w").write("1")
time.sleep(30)
"""


def start(tmp_path: Path, code: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        wrap_with_opt_ml([sys.executable, "-c", code], tmp_path), start_new_session=True
    )
    deadline = time.monotonic() + 20
    while not (tmp_path / "started").exists():
        assert time.monotonic() < deadline and process.poll() is None, "sandboxed process did not start"
        time.sleep(0.02)
    return process


def test_sigterm_to_the_process_group_reaches_the_job_and_bwrap_reports_its_status(tmp_path: Path) -> None:
    require_sandbox()
    process = start(tmp_path, HANDLER)
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=20) == 7
    assert (tmp_path / "stopped").read_text() == "saved"


def test_a_job_without_handler_dies_of_sigterm_and_reads_as_143(tmp_path: Path) -> None:
    require_sandbox()
    process = start(tmp_path, "import time; open('/opt/ml/started','w').write('1'); time.sleep(30)")
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=20) == 128 + signal.SIGTERM
