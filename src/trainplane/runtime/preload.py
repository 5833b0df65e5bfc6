"""A pre-loaded interpreter: a built-in's process, started and its heavy imports done before its job.

Linear Learner pays ``import torch`` (0.8 s on one core here) before its first epoch, on every host, and
XGBoost 0.6 s for xgboost, its tracker and the readers; on two hosts that fixed cost does not shrink, so
it caps a multi-host job's scaling (benchmarks/RESULTS.md, scaling). A spare agent (``executors.local``)
therefore forks, while it is still single-threaded, a child that imports the modules named by the
built-in (``BuiltinAlgorithm.preload``) and waits. When the agent gets a job whose program is ``python -m
<that built-in>``, it hands the child the job's working directory, environment, CPU set and output
pipes, and the child becomes the algorithm's process (``runpy``, as ``python -m`` would). Any other job
discards the child. A child whose imports failed exits instead of saying it is ready, and the agent
starts a fresh interpreter as it would without one.

What differs from a fresh ``python -m``: the interpreter's own start-up options (``PYTHON*`` variables
such as PYTHONHASHSEED) are those of the spare, which built-ins do not depend on; thread pools already
loaded (torch's OpenMP, NumPy's BLAS) are resized to what a fresh process would pick from the job's
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` or its CPU set.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import io
import json
import os
import runpy
import signal
import socket
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

_PR_SET_PDEATHSIG = 1
_MAX_MESSAGE = 4 << 20  # a job's environment and argv, JSON
_READY = b"R"  # the child's imports are done


class Preloaded:
    """The agent's handle on its pre-loaded child (one job at most; ``discard`` when unused)."""

    def __init__(self, pid: int, channel: socket.socket, modules: Sequence[str]) -> None:
        self.pid, self._channel, self.modules = pid, channel, tuple(modules)
        self._settled = False  # started (the job owns the process now) or discarded

    @classmethod
    def fork(cls, modules: Sequence[str]) -> Preloaded:
        """Fork the child now (call while single-threaded); it imports ``modules`` and waits."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            parent.close()
            code = 1
            try:
                code = _serve(child, modules)
            finally:
                os._exit(code)
        child.close()
        return cls(pid, parent, modules)

    def runs(self, argv: Sequence[str]) -> bool:
        """Whether this child can be ``argv``: ``<this python> -m <module>`` for a module it imported."""
        return (
            len(argv) == 3
            and argv[0] == sys.executable
            and argv[1] == "-m"
            and any(argv[2] == m or m.startswith(argv[2] + ".") for m in self.modules)
        )

    def start(
        self, argv: Sequence[str], cwd: Path, env: dict[str, str], cpus: Sequence[int] | None
    ) -> PreloadedProcess:
        """Make the child run ``argv``; its stdout and stderr come back as pipes, as with Popen."""
        if self._settled:
            raise OSError("the pre-loaded interpreter was already used")
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        message = json.dumps({"module": argv[2], "cwd": str(cwd), "env": env, "cpus": list(cpus or [])})
        try:
            if self._channel.recv(1) != _READY:  # waits for the imports; EOF: they failed
                raise OSError("the pre-loaded interpreter failed to import its modules")
            socket.send_fds(self._channel, [message.encode()], [out_write, err_write])
        except OSError:
            for fd in (out_read, out_write, err_read, err_write):
                os.close(fd)
            self.discard()
            raise
        finally:
            self._channel.close()
        self._settled = True
        os.close(out_write)
        os.close(err_write)
        return PreloadedProcess(self.pid, os.fdopen(out_read, "rb"), os.fdopen(err_read, "rb"))

    def discard(self) -> None:
        """End an unused child (it may still be importing) and reap it; nothing once it was started."""
        if self._settled:
            return
        self._settled = True
        self._channel.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


class PreloadedProcess:
    """The running child, with the part of Popen's interface the agent uses."""

    def __init__(self, pid: int, stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.pid, self.stdout, self.stderr = pid, stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self._reap(os.WNOHANG)
        return self.returncode

    def wait(self) -> int:
        while self.returncode is None:
            self._reap(0)
        return self.returncode

    def _reap(self, flags: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:  # reaped by a poll() in a signal handler while wait() was blocked
            if self.returncode is None:
                self.returncode = 255
            return
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)  # -N after signal N, as Popen


# ----------------------------------------------------------------- the child's side
def _serve(channel: socket.socket, modules: Sequence[str]) -> int:
    _die_with_parent(signal.SIGKILL)
    _devnull_stdin()
    try:
        for name in modules:
            importlib.import_module(name)
    except BaseException:  # a fresh interpreter will meet (and report) the same error in the job
        return 1
    try:
        channel.sendall(_READY)
        data, fds, _flags, _address = socket.recv_fds(channel, _MAX_MESSAGE, 2)
    except OSError:
        return 0
    channel.close()
    if not data or len(fds) != 2:
        return 0  # the agent discarded us, or died
    command = json.loads(data)
    _become_job_process(command, fds)
    return _run_module(command["module"])


def _become_job_process(command: dict[str, Any], fds: list[int]) -> None:
    """What Popen(start_new_session=True, cwd, env, stdout=PIPE, stderr=PIPE) and the agent's
    pinning would have given a fresh process."""
    _die_with_parent(0)  # from now on the job's lifetime is the agent's to manage, as with Popen
    os.setsid()
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    for fd in fds:
        os.close(fd)
    # PYTHONUNBUFFERED=1, as the agent gives every program: each write reaches the pipe at once.
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True, line_buffering=True)
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), write_through=True, line_buffering=True, errors="backslashreplace"
    )
    os.environ.clear()
    os.environ.update(command["env"])
    if command["cpus"] and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, command["cpus"])
    os.chdir(command["cwd"])
    _size_thread_pools(command["env"])


def _size_thread_pools(env: dict[str, str]) -> None:
    """Thread pools loaded before the job's environment was known: sized as a fresh process would
    size them (OpenMP from OMP_NUM_THREADS, BLAS from OPENBLAS_NUM_THREADS or OMP_NUM_THREADS, else
    the CPUs this process may use)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    openmp = _positive(env.get("OMP_NUM_THREADS")) or cpus
    blas = _positive(env.get("OPENBLAS_NUM_THREADS")) or openmp
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(openmp)
    with contextlib.suppress(Exception):  # threadpoolctl inspects loaded libraries; best effort
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=blas, user_api="blas")
        threadpool_limits(limits=openmp, user_api="openmp")


def _positive(value: str | None) -> int | None:
    try:
        number = int((value or "").split(",")[0])
    except ValueError:
        return None
    return number if number > 0 else None


def _run_module(module: str) -> int:
    sys.argv = [module]  # run_module puts the module's file first, as ``python -m`` does
    code = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        code = _exit_code(exit_.code)
    except BaseException:  # what the interpreter prints before exiting 1
        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _die_with_parent(sig: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def _devnull_stdin() -> None:
    # The spare's stdin is the control plane's pipe: the child must not hold it (or read it).
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the interpreter's own stdin
