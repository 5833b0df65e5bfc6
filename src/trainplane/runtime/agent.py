"""The runtime agent: what runs inside one "instance" (host) of one attempt.

``python -m trainplane.runtime.agent AGENT_DIR`` reads ``AGENT_DIR/spec.json`` and then:
lays out the job root like /opt/ml, writes the config files, stages channels (Downloading), resolves the
program, runs it (Training) with every output line time-stamped into ``output.log``, and records the
outcome in ``result.json``. Phase changes go to ``events.jsonl``. The control plane only reads these
files, so it can die and come back without disturbing a running job.

Stop notices (SIGTERM) are forwarded to the algorithm's process group (not to the agent's own), as
``docker stop`` signals a container. The agent is a child subreaper: when the algorithm exits, anything
it left behind is killed, so no orphan outlives its job.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO

import psutil

from trainplane.runtime import checkpoint_sync, contract, frameworks, process_group, sandbox, script_mode
from trainplane.runtime.paths import MLPaths
from trainplane.runtime.pipe import PipeChannels, PipeError, channel_mode
from trainplane.runtime.preload import Preloaded, PreloadedProcess
from trainplane.runtime.program import Program, ProgramError, assume_sandbox, resolve_program

_PR_SET_CHILD_SUBREAPER = 36
STDERR_TAIL_LINES = 20

# The agent stops an algorithm past MaxRuntimeInSeconds this long after a control plane would have.
RUNTIME_WATCH_SLACK_SECONDS = 10.0
GIB = 2**30  # VolumeSizeInGB counts EBS gigabytes, which are GiB
# Variables that hand a process the API's credentials (``api.credentials``): never a job's.
API_KEY_VARIABLES = ("TRAINPLANE_ACCESS_KEY_ID", "TRAINPLANE_SECRET_ACCESS_KEY")
# How long a stop notice that found the algorithm not yet listening waits for it (then the grace
# period's SIGKILL ends it).
RESEND_SIGTERM_SECONDS = 30.0


class Agent:
    def __init__(self, agent_dir: Path, preloaded: Preloaded | None = None) -> None:
        self.agent_dir = agent_dir
        self.preloaded = preloaded  # a spare's pre-loaded interpreter, used if the program is its built-in
        self.spec: dict[str, Any] = json.loads((agent_dir / "spec.json").read_text())
        self.paths = MLPaths(Path(self.spec["root"]))
        self.context = contract.HostContext(**self.spec["context"])
        self.child: subprocess.Popen[bytes] | PreloadedProcess | None = None
        self.stop_requested = False
        self._log = open(agent_dir / "output.log", "ab", buffering=0)  # noqa: SIM115 - lives as long as the agent
        self._log_lock = threading.Lock()
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.pipes = PipeChannels(agent_dir / "pipe", self.paths.data, self.log)  # Pipe channels' feeders
        self.sync: checkpoint_sync.CheckpointSync | None = None
        self._finished = threading.Event()

    # ----------------------------------------------------------------- files the control plane reads
    def event(self, name: str, **fields: Any) -> None:
        line = json.dumps({"event": name, "time": time.time(), **fields}) + "\n"
        with open(self.agent_dir / "events.jsonl", "a") as handle:
            handle.write(line)

    def log(self, text: str) -> None:
        data = f"{time.time():.6f}\t{text.rstrip(chr(10))}\n".encode("utf-8", errors="replace")
        with self._log_lock:
            self._log.write(data)

    def finish(self, exit_code: int, failure_reason: str | None) -> None:
        result = {"exit_code": exit_code, "failure_reason": failure_reason, "time": time.time()}
        temporary = self.agent_dir / "result.json.tmp"
        temporary.write_text(json.dumps(result))
        os.replace(temporary, self.agent_dir / "result.json")
        self._finished.set()

    def _watch_runtime(self) -> None:
        """MaxRuntimeInSeconds without a control plane: the control plane stops a job that runs past it,
        but while none runs (killed, or restarting) nothing would, and the overrun would be billed. So
        the agent stops the algorithm itself, a little after the control plane would have (its stop
        reaches the agent first when it is there), with the same SIGTERM, grace period and SIGKILL."""
        left = self.spec.get("runtime_left_seconds")
        if left is None:
            return
        grace = float(self.spec.get("stop_grace_seconds", 120))

        def watch() -> None:
            if self._finished.wait(float(left) + RUNTIME_WATCH_SLACK_SECONDS) or self.stop_requested:
                return
            self.log("MaxRuntimeInSeconds exceeded while no control plane watched: stopping the training job")
            self.stop_requested = True
            self._forward_sigterm()
            if not self._finished.wait(grace):
                self._signal_child(signal.SIGKILL)

        threading.Thread(target=watch, name="runtime-watch", daemon=True).start()

    # ----------------------------------------------------------------- the job
    def run(self) -> int:
        try:
            return self._run()
        finally:
            self._discard_preloaded()  # not used (the job failed or stopped before its program ran)

    def _discard_preloaded(self) -> None:
        preloaded, self.preloaded = self.preloaded, None
        if preloaded is not None:
            preloaded.discard()

    def _run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_sigterm)
        _become_subreaper()
        _pin(self.spec.get("cpu_set"))
        self.event("Downloading")
        self._watch_runtime()
        try:
            storage = self._storage()
            self.paths.create()
            contract.write_config_files(self.context, self.paths)
            self._stage(storage)
            self._start_checkpoint_sync(storage)
            if self.stop_requested:
                return self._stopped_before_start()
            if "sandbox" in self.spec:
                assume_sandbox(self.spec["sandbox"].get("unavailable"))
            addresses = contract.host_addresses(self.context.hosts, self.spec.get("distributed"))
            program = resolve_program(
                self.spec["algorithm_specification"],
                dict(self.context.hyperparameters),
                self.paths,
                fetch=lambda uri, dest: _fetch(storage, uri, dest),
                hosts_file=sandbox.write_hosts_file(self.agent_dir / "hosts", addresses),
                private_paths=_private_paths(self.context),
                install_dir=self.agent_dir / "python",
                log=self.log,
            )
            if program.kind == "script":
                self._note_framework_version()
        except ProgramError as exc:
            self._close_checkpoint_sync()
            return self._fail_before_start(str(exc))
        except Exception as exc:  # staging and layout errors carry their own ClientError wording
            message = str(exc)
            if not message.startswith(("ClientError", "AlgorithmError", "InternalServerError")):
                message = f"ClientError: {message}"
            self._close_checkpoint_sync()
            return self._fail_before_start(message)
        return self._train(program)

    def _note_framework_version(self) -> None:
        """Say when the image's framework version is not the one the script will run with."""
        image = str(self.spec["algorithm_specification"].get("TrainingImage", ""))
        requirements = self.paths.code / "requirements.txt"
        wanted = requirements.read_text(errors="replace") if requirements.is_file() else ""
        note = frameworks.mismatch_note(image, wanted)
        if note is not None:
            self.log(note)

    def _storage(self) -> Any:
        from trainplane.storage import open_storage

        config = self.spec["storage"]
        return open_storage(Path(config["local_s3_root"]), config.get("s3_endpoint_url"))

    def _stage(self, storage: Any) -> None:
        from trainplane.runtime.staging import StagingError, stage_channel

        hosts = self.context.hosts
        index = hosts.index(self.context.current_host)
        on_volume = 0  # bytes of File-mode input, which SageMaker downloads to the training volume
        volume_gb = self.spec.get("volume_gb")
        for channel in self.context.channels:
            if self.stop_requested:
                return
            file_mode = channel_mode(channel, self.context.training_input_mode) == "File"
            channel, dest = self.pipes.route(
                channel, self.paths.channel(channel["ChannelName"]), self.context.training_input_mode
            )
            staged = stage_channel(
                channel,
                dest,
                storage,
                host_index=index,
                host_count=len(hosts),
                input_mode=self.context.training_input_mode,
            )
            on_volume += staged.total_bytes if file_mode else 0
            if volume_gb is not None and on_volume > volume_gb * GIB:
                raise StagingError(
                    f"ClientError: Data download failed: the File-mode input data ({on_volume / GIB:.2f} GB "
                    f'so far, channel "{staged.name}") does not fit on the {volume_gb} GB training volume; '
                    "request a larger ResourceConfig.VolumeSizeInGB"
                )

    def _start_checkpoint_sync(self, storage: Any) -> None:
        def failed(message: str) -> None:
            self.log(f"Checkpoint sync failed: {message}")
            self.event("CheckpointSyncFailed", message=message)

        config = contract.checkpoint_config(self.context)
        self.sync = checkpoint_sync.start_for_host(config, self.paths.resolve, storage, failed, self.log)

    def _close_checkpoint_sync(self) -> None:
        """The final flush: after the algorithm exited (normally, or within the stop grace period)."""
        if self.sync is not None:
            self.sync.close()
            self.sync = None

    def _stopped_before_start(self) -> int:
        self._close_checkpoint_sync()
        self.finish(143, None)
        return 0

    def _fail_before_start(self, message: str) -> int:
        self.log(message)
        # The file holds what the container would write; the service adds "AlgorithmError: " itself.
        script_mode.write_failure_file(self.paths, message.removeprefix("AlgorithmError: "))
        self.finish(1, message)
        return 0

    def _train(self, program: Program) -> int:
        # The API's own keys stay with the control plane; boto3 in the job finds the object store.
        env = {k: v for k, v in os.environ.items() if k not in API_KEY_VARIABLES}
        endpoint = self.spec["storage"].get("s3_endpoint_url")
        if endpoint:
            env.setdefault("AWS_ENDPOINT_URL_S3", endpoint)
        env.update(
            contract.build_environment(
                self.context,
                self.paths,
                user_entry=program.user_entry,
                opt_ml_view=program.opt_ml_view,
                distributed=self.spec.get("distributed"),
            )
        )
        # The machine's own PYTHONPATH is the "image's": kept after the job's (code dir, Environment), as
        # a pre-loaded interpreter, which inherited it, keeps it too.
        inherited = os.environ.get("PYTHONPATH")
        if inherited:
            env["PYTHONPATH"] = (
                f"{env['PYTHONPATH']}{os.pathsep}{inherited}" if env.get("PYTHONPATH") else inherited
            )
        if "PATH" not in self.context.environment:
            # The job's Python is the image's: first on PATH, so that commands and launchers the job
            # starts (``python3``, ``torchrun``, SDK v3's sm_train.sh) find it, not whatever came first.
            bins = dict.fromkeys(
                os.path.dirname(p) for p in (program.python or sys.executable, sys.executable)
            )
            env["PATH"] = os.pathsep.join([*bins, env.get("PATH", os.defpath)])
        for key, value in program.extra_env.items():
            env[key] = f"{value}{os.pathsep}{env[key]}" if key == "PYTHONPATH" and env.get(key) else value
        env["PYTHONUNBUFFERED"] = "1"
        if self.stop_requested:  # stopped while the program was prepared (requirements, ...): never start it
            return self._stopped_before_start()
        self.event("Training")
        try:
            self.pipes.start()
        except PipeError as exc:
            self._close_checkpoint_sync()
            return self._fail_before_start(str(exc))
        self.child = self._start(program, env)
        preloaded = isinstance(self.child, PreloadedProcess)
        (self.agent_dir / "child.json").write_text(
            json.dumps({"pid": self.child.pid, "preloaded": preloaded})
        )
        if self.stop_requested:
            self._forward_sigterm()
        readers = [
            threading.Thread(target=self._pump, args=(self.child.stdout, False), daemon=True),
            threading.Thread(target=self._pump, args=(self.child.stderr, True), daemon=True),
        ]
        for reader in readers:
            reader.start()
        exit_code = self.child.wait()
        self.pipes.stop()
        # Leftovers first: a background process the algorithm started holds its stdout and stderr open,
        # so the readers would only time out. Once it is dead they read what is still in the pipes, then
        # end of file.
        _kill_leftovers()
        for reader in readers:
            reader.join(timeout=5)
        self._close_checkpoint_sync()
        self.finish(exit_code, self._failure_reason(exit_code, program))
        return 0

    def _start(self, program: Program, env: dict[str, str]) -> subprocess.Popen[bytes] | PreloadedProcess:
        """The program's process: the pre-loaded interpreter when it is waiting for this built-in,
        else a fresh one. Either way in a session of its own, with stdout and stderr piped to us."""
        preloaded, self.preloaded = self.preloaded, None
        if preloaded is not None and program.kind == "builtin" and preloaded.runs(program.argv):
            with contextlib.suppress(OSError):  # the child died: start a fresh interpreter instead
                cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
                return preloaded.start(program.argv, program.cwd, env, cpus)
        elif preloaded is not None:
            preloaded.discard()
        return subprocess.Popen(
            program.argv,
            cwd=program.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def _pump(self, stream: BinaryIO, is_stderr: bool) -> None:
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.log(text)
            if is_stderr:
                self._stderr_tail.append(text)

    def _failure_reason(self, exit_code: int, program: Program) -> str | None:
        if exit_code == 0:
            return None
        if program.kind == "script" and not self.paths.failure_file.exists():
            text = script_mode.failure_message(
                exit_code, "\n".join(self._stderr_tail), " ".join(program.command)
            )
            script_mode.write_failure_file(self.paths, text)
        try:
            reason = self.paths.failure_file.read_text(errors="replace")[:1024].strip()
        except FileNotFoundError:
            reason = ""
        if not reason:
            tail = "\n".join(self._stderr_tail)[-800:]
            reason = f"Process exited with code {exit_code}" + (f": {tail}" if tail else "")
        if not reason.startswith(("ClientError", "AlgorithmError", "InternalServerError")):
            reason = f"AlgorithmError: {reason}"
        return reason[:1024]

    # ----------------------------------------------------------------- signals
    def _on_sigterm(self, _signum: int, _frame: Any) -> None:
        self.stop_requested = True
        self._forward_sigterm()
        if self.sync is not None:
            self.sync.wake()  # upload what exists now; the final flush follows the algorithm's exit

    def _forward_sigterm(self) -> None:
        child = self.child
        # Asked before the signal: a process that hears it now gets it. One that is not listening yet
        # (its sandbox or interpreter is still starting) gets it again once it is, or the stop would
        # wait for the grace period's SIGKILL; if it began to listen in between, it hears it twice, at
        # a moment no handler of its own can be installed yet.
        listening = child is None or process_group.hears(child.pid, signal.SIGTERM)
        self._signal_child(signal.SIGTERM)
        if not listening:
            threading.Thread(target=self._resend_sigterm, args=(child,), daemon=True).start()

    def _resend_sigterm(self, child: subprocess.Popen[bytes] | PreloadedProcess) -> None:
        deadline = time.monotonic() + RESEND_SIGTERM_SECONDS
        while child.poll() is None and time.monotonic() < deadline:
            if process_group.hears(child.pid, signal.SIGTERM):
                self._signal_child(signal.SIGTERM)
                return
            time.sleep(0.02)

    def _signal_child(self, signum: int) -> None:
        # The child leads its own process group; signalling the group reaches a job wrapped by the
        # /opt/ml sandbox too (bwrap itself ignores SIGTERM and does not forward it).
        if self.child is not None and self.child.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.child.pid, signum)


def _fetch(storage: Any, uri: str, dest: Path) -> None:
    """Download one object; a ``file://`` directory (trainplane extension) is copied as a tree."""
    if uri.startswith("file://") and Path(uri[len("file://") :]).is_dir():
        shutil.copytree(Path(uri[len("file://") :]), dest)
        return
    storage.download_file(uri, dest)


def _pin(cores: list[int] | None) -> None:
    """Run this host on its own cores (``trainplane.executors.cpus``): set before staging and before the
    algorithm starts, so every process and thread of the host inherits it."""
    if cores and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):  # a core gone (container resized): run unpinned
            os.sched_setaffinity(0, cores)


def _become_subreaper() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: leftovers are then killed by the control plane's tree kill


def _kill_leftovers() -> None:
    """Kill every process the algorithm left behind (re-parented to us as subreaper)."""
    me = psutil.Process()
    leftovers = me.children(recursive=True)
    for process in leftovers:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(leftovers, timeout=5)


USAGE = "usage: python -m trainplane.runtime.agent AGENT_DIR | --spare [--cpus 0,1] [--preload MODULE,...]"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--spare"]:
        options = dict(zip(args[1::2], args[2::2], strict=False))
        if len(args) % 2 == 0 or set(options) - {"--cpus", "--preload"}:
            print(USAGE, file=sys.stderr)
            return 2
        cpus = [int(c) for c in options.get("--cpus", "").split(",") if c]
        return _run_as_spare(cpus, [m for m in options.get("--preload", "").split(",") if m])
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    return Agent(Path(args[0])).run()


def _run_as_spare(cpus: list[int], preload: list[str]) -> int:
    """Wait, fully imported, for one job: a JSON line ``{"agent_dir": ..., "env": {...}}`` on stdin.

    ``cpus``: the (idle) cores to warm up on; the job's own set replaces them. ``preload``: modules a
    pre-loaded interpreter imports meanwhile (``runtime.preload``), forked first, while this process
    has no threads. End of input (the control plane closed the pipe or died) ends the spare without
    running anything.
    """
    _pin(cpus)
    preloaded = Preloaded.fork(preload) if preload else None
    try:
        return _wait_for_job(preloaded)
    finally:
        if preloaded is not None:
            preloaded.discard()  # a no-op once the job took it


def _wait_for_job(preloaded: Preloaded | None) -> int:
    import trainplane.runtime.staging
    import trainplane.storage  # noqa: F401

    line = sys.stdin.readline()
    if not line.strip():
        return 0
    message = json.loads(line)
    agent_dir = Path(message["agent_dir"])
    os.environ.update(message.get("env", {}))
    log_fd = os.open(agent_dir / "agent.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    agent = Agent(agent_dir, preloaded)
    return agent.run()


def _private_paths(context: contract.HostContext) -> list[str]:
    """Absolute paths outside /opt/ml the job will use: its checkpoint LocalPath, if it has one."""
    config = contract.checkpoint_config(context)
    return [config["LocalPath"]] if config else []


if __name__ == "__main__":
    code = main()
    # result.json is written and every log line flushed: skip interpreter teardown, which can take
    # seconds on a loaded machine and delays the control plane's view of the job's end.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
