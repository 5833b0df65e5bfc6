"""The pre-loaded interpreter: a forked child that imports ahead and then becomes the job's process."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from trainplane.runtime.preload import Preloaded, PreloadedProcess

PROGRAM = """
import os, sys, time
import {helper}  # pre-loaded: its import-time stamp shows whether this process imported it again
print("cwd", os.getcwd())
print("env", os.environ.get("PRELOAD_TEST_VALUE"), os.environ.get("PRELOAD_TEST_LEFT"))
print("imported-at", {helper}.IMPORTED_AT, "pid", os.getpid(), "sid", os.getsid(0) == os.getpid())
print("affinity", sorted(os.sched_getaffinity(0)))
print("argv0", sys.argv[0])
print("to stderr", file=sys.stderr)
mode = os.environ.get("PRELOAD_TEST_MODE", "")
if mode == "exit":
    sys.exit(3)
if mode == "raise":
    raise RuntimeError("the job's own error")
if mode == "sleep":
    print("sleeping", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def modules(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A program module and a helper module it imports, importable by this process and its forks."""
    suffix = f"{os.getpid()}_{time.monotonic_ns()}"
    program, helper = f"preload_program_{suffix}", f"preload_helper_{suffix}"
    (tmp_path / f"{helper}.py").write_text("import time\nIMPORTED_AT = time.time()\n")
    (tmp_path / f"{program}.py").write_text(textwrap.dedent(PROGRAM.format(helper=helper)))
    sys.path.insert(0, str(tmp_path))
    yield program, helper
    sys.path.remove(str(tmp_path))


def run_to_end(process: PreloadedProcess) -> tuple[int, list[str], list[str]]:
    out = process.stdout.read().decode().splitlines()
    err = process.stderr.read().decode().splitlines()
    return process.wait(), out, err


def test_the_child_runs_the_module_with_the_jobs_cwd_env_cpus_and_pipes(
    modules: tuple[str, str], tmp_path: Path
) -> None:
    program, helper = modules
    preloaded = Preloaded.fork([helper])
    time.sleep(0.2)
    started = time.time()
    workdir = tmp_path / "work"
    workdir.mkdir()
    cpus = [sorted(os.sched_getaffinity(0))[-1]]
    process = preloaded.start(
        [sys.executable, "-m", program], workdir, {"PRELOAD_TEST_VALUE": "from-the-job"}, cpus
    )
    code, out, err = run_to_end(process)
    assert code == 0, err
    assert out[0] == f"cwd {workdir}"
    assert out[1] == "env from-the-job None"  # the job's environment replaced the spare's, whole
    stamp, pid, session = out[2].split()[1], int(out[2].split()[3]), out[2].split()[5]
    assert float(stamp) < started  # imported before the job arrived, not again by the job
    assert pid == preloaded.pid == process.pid and session == "True"
    assert out[3] == f"affinity {cpus}"
    assert out[4].startswith("argv0 ") and out[4].endswith(f"{program}.py")
    assert err == ["to stderr"]


@pytest.mark.parametrize(("mode", "expected"), [("exit", 3), ("raise", 1)])
def test_exit_codes_and_tracebacks_are_a_fresh_interpreters(
    modules: tuple[str, str], tmp_path: Path, mode: str, expected: int
) -> None:
    program, helper = modules
    process = Preloaded.fork([helper]).start(
        [sys.executable, "-m", program], tmp_path, {"PRELOAD_TEST_MODE": mode}, None
    )
    code, _, err = run_to_end(process)
    assert code == expected
    if mode == "raise":
        assert err[-1] == "RuntimeError: the job's own error"
        assert err[1].startswith("Traceback")


def test_a_signal_ends_it_with_the_negative_signal_number_as_popen_reports(
    modules: tuple[str, str], tmp_path: Path
) -> None:
    program, helper = modules
    process = Preloaded.fork([helper]).start(
        [sys.executable, "-m", program], tmp_path, {"PRELOAD_TEST_MODE": "sleep"}, None
    )
    while b"sleeping" not in process.stdout.readline():
        pass
    assert process.poll() is None
    os.killpg(process.pid, signal.SIGTERM)  # its own session, as the agent signals it
    assert process.wait() == -signal.SIGTERM
    assert process.poll() == -signal.SIGTERM


def test_it_runs_only_this_pythons_m_form_of_a_module_it_preloaded() -> None:
    preloaded = Preloaded(0, None, ["torch", "trainplane.algorithms.linear_learner.fit"])  # type: ignore[arg-type]
    assert preloaded.runs([sys.executable, "-m", "trainplane.algorithms.linear_learner"])
    assert not preloaded.runs([sys.executable, "-m", "trainplane.algorithms.xgboost"])
    assert not preloaded.runs(["/other/python", "-m", "trainplane.algorithms.linear_learner"])
    assert not preloaded.runs([sys.executable, "train.py"])


def test_a_child_whose_imports_failed_refuses_the_job(tmp_path: Path) -> None:
    preloaded = Preloaded.fork(["trainplane_no_such_module_anywhere"])
    with pytest.raises(OSError, match="failed to import"):
        preloaded.start([sys.executable, "-m", "trainplane_no_such_module_anywhere"], tmp_path, {}, None)
    assert not psutil.pid_exists(preloaded.pid)  # reaped


def test_discard_ends_and_reaps_an_unused_child_even_mid_import(tmp_path: Path) -> None:
    (tmp_path / "preload_slow_import.py").write_text("import time\ntime.sleep(30)\n")
    sys.path.insert(0, str(tmp_path))
    try:
        preloaded = Preloaded.fork(["preload_slow_import"])
    finally:
        sys.path.remove(str(tmp_path))
    started = time.monotonic()
    preloaded.discard()
    assert time.monotonic() - started < 5
    assert not psutil.pid_exists(preloaded.pid)
    preloaded.discard()  # twice is harmless
    with pytest.raises(OSError, match="already used"):
        preloaded.start([sys.executable, "-m", "json"], tmp_path, {}, None)


@pytest.mark.parametrize(("omp", "expected"), [("3", 3), (None, "cpus")])
def test_torch_threads_follow_the_jobs_environment_not_the_spares(
    tmp_path: Path, omp: str | None, expected: int | str
) -> None:
    name = f"preload_threads_{os.getpid()}_{time.monotonic_ns()}"
    (tmp_path / f"{name}.py").write_text("import torch\nprint(torch.get_num_threads())\n")
    sys.path.insert(0, str(tmp_path))
    try:
        preloaded = Preloaded.fork(["torch"])
    finally:
        sys.path.remove(str(tmp_path))
    cpus = sorted(os.sched_getaffinity(0))[:1]
    env = {"PYTHONPATH": str(tmp_path), **({"OMP_NUM_THREADS": omp} if omp else {})}
    code, out, err = run_to_end(preloaded.start([sys.executable, "-m", name], tmp_path, env, cpus))
    assert code == 0, err
    assert int(out[0]) == (len(cpus) if expected == "cpus" else expected)
