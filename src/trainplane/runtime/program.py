"""Deciding what process a host runs: a built-in algorithm, a script-mode entry point, or a command.

The order follows SageMaker's images: ``sagemaker_program`` selects script (framework) mode even on a
built-in image; ContainerEntrypoint / ContainerArguments replace the image's entry point; otherwise a
built-in algorithm image runs its algorithm. Anything else would need the image itself, which trainplane
does not run.
"""

from __future__ import annotations

import dataclasses
import functools
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainplane.algorithms.registry import TRAINING_IMAGE_VARIABLE, builtin_for_image
from trainplane.runtime import requirements, sandbox, script_mode
from trainplane.runtime.paths import OPT_ML, MLPaths, under_opt_ml

OPT_ML_CODE = f"{OPT_ML}/code"  # where the toolkit runs scripts (their working directory)


class ProgramError(Exception):
    """The job cannot be run as specified; the message is a FailureReason starting with ClientError."""


@dataclass(frozen=True)
class Program:
    argv: list[str]
    cwd: Path
    kind: str  # builtin | script | command
    user_entry: Any = None
    extra_env: dict[str, str] = field(default_factory=dict)
    opt_ml_view: bool = False
    # The command as a container would run it, for FailureReason's "Command": argv without the sandbox.
    shown: list[str] | None = None
    python: str | None = None  # the job's interpreter, when not this one (a requirements.txt venv)

    @property
    def command(self) -> list[str]:
        return self.shown if self.shown is not None else self.argv


def resolve_program(
    algorithm_specification: dict[str, Any],
    hyperparameters: dict[str, str],
    paths: MLPaths,
    fetch: Callable[[str, Path], None],
    python: str | None = None,
    hosts_file: Path | None = None,
    private_paths: Sequence[str] = (),
    install_dir: Path | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> Program:
    """How to run the job; ``hosts_file`` (``sandbox.write_hosts_file``) becomes /etc/hosts of scripts and
    commands that run in the /opt/ml sandbox. ``private_paths`` are absolute paths outside /opt/ml the job
    uses (a checkpoint LocalPath): the sandbox mounts each one's private copy (``MLPaths.resolve``) there.
    With ``install_dir``, a script's requirements.txt is installed into a venv there (pip's lines to
    ``log``) and the script runs with that venv's Python; a command gets such a venv as its python3."""
    python = python or sys.executable
    binds = _private_binds(paths, private_paths)
    image = algorithm_specification.get("TrainingImage")
    entry = script_mode.UserEntry.from_hyperparameters(hyperparameters)
    if entry is not None:
        try:
            script_mode.prepare_code(entry, paths, fetch)
            script_mode.make_entry_executable(entry, paths)
        except Exception as exc:  # download or extraction problems are the user's to fix
            raise ProgramError(f"ClientError: Could not prepare the training code: {exc}") from exc
        if install_dir is not None and requirements.has_requirements(paths.code):
            python = _install_requirements(paths, install_dir, log, python)
        argv = script_mode.user_command(entry, paths, python)
        # Scripts often hard-code /opt/ml/model; give them the real layout when a sandbox is possible.
        if _sandbox_unavailable_reason() is None:
            wrapped = sandbox.wrap_with_opt_ml(
                argv, paths.root, hosts_file=hosts_file, chdir=OPT_ML_CODE, binds=binds
            )
            return Program(
                argv=wrapped,
                cwd=paths.code,
                kind="script",
                user_entry=entry,
                opt_ml_view=True,
                shown=argv,
                python=python,
            )
        _require_sandbox_for(binds)
        # build_environment puts the code directory on PYTHONPATH, as the toolkit does.
        return Program(argv=argv, cwd=paths.code, kind="script", user_entry=entry, python=python)
    command = script_mode.container_command(algorithm_specification)
    if command is not None:
        # Its python3 and pip are the job's own: what it installs stays with the job, as in a container.
        env_python = _job_environment(install_dir, log) if install_dir is not None else None
        return dataclasses.replace(_container_program(command, paths, hosts_file, binds), python=env_python)
    builtin = builtin_for_image(image)
    if builtin is not None:
        # The image's tag is the algorithm's version (defaults differ between XGBoost 1.x and 3.x).
        image_env = {TRAINING_IMAGE_VARIABLE: str(image)}
        return Program(
            argv=[python, "-m", builtin.module], cwd=paths.root, kind="builtin", extra_env=image_env
        )
    raise ProgramError(f"ClientError: {_unrunnable_image(algorithm_specification)}")


def unrunnable_reason(
    algorithm_specification: Mapping[str, Any], hyperparameters: Mapping[str, str]
) -> str | None:
    """Why ``resolve_program`` could run nothing for this job (None when it can): the service refuses
    such a request at creation with this reason, and a job stored before that fails with it."""
    if script_mode.UserEntry.from_hyperparameters(hyperparameters) is not None:
        return None
    if script_mode.container_command(algorithm_specification) is not None:
        return None
    if builtin_for_image(algorithm_specification.get("TrainingImage")) is not None:
        return None
    return _unrunnable_image(algorithm_specification)


def _unrunnable_image(algorithm_specification: Mapping[str, Any]) -> str:
    image = algorithm_specification.get("TrainingImage")
    if algorithm_specification.get("ContainerArguments"):
        return (
            "ContainerArguments without ContainerEntrypoint need the image's own entry point, which "
            f"trainplane cannot run for image {image}. Give ContainerEntrypoint as well."
        )
    return (
        f"The training image {image} cannot be run by trainplane. trainplane runs the built-in algorithms "
        "(sagemaker-xgboost, linear-learner), script mode (the sagemaker_program hyperparameter) and "
        "ContainerEntrypoint commands on this machine's Python."
    )


def preload_for(algorithm_specification: dict[str, Any], hyperparameters: dict[str, str]) -> tuple[str, ...]:
    """What a pre-loaded interpreter should import for this job (``runtime.preload``): its built-in's
    ``preload`` when ``resolve_program`` would run the built-in, else nothing."""
    if script_mode.UserEntry.from_hyperparameters(hyperparameters) is not None:
        return ()
    if script_mode.container_command(algorithm_specification) is not None:
        return ()
    builtin = builtin_for_image(algorithm_specification.get("TrainingImage"))
    return builtin.preload if builtin is not None else ()


def _install_requirements(paths: MLPaths, install_dir: Path, log: Callable[[str], None], python: str) -> str:
    try:
        return requirements.install(paths.code, install_dir, log, python)
    except requirements.InstallRequirementsError as exc:
        raise ProgramError(f"AlgorithmError: {exc}") from exc
    except (OSError, subprocess.SubprocessError) as exc:
        raise ProgramError(
            f"ClientError: Could not create an environment for requirements.txt: {exc}"
        ) from exc


def _job_environment(install_dir: Path, log: Callable[[str], None]) -> str | None:
    """A command's own python3; without one (venv unusable here) it runs with the server's."""
    try:
        return requirements.make_env(install_dir)
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"Could not create the job's own Python environment ({exc}); using the server's Python")
        return None


def _private_binds(paths: MLPaths, private_paths: Sequence[str]) -> list[tuple[Path, str]]:
    binds = []
    for path in private_paths:
        source = paths.resolve(path)
        if path.startswith("/") and not under_opt_ml(path):
            source.mkdir(parents=True, exist_ok=True)
            binds.append((source, path))
    return binds


def _require_sandbox_for(binds: list[tuple[Path, str]]) -> None:
    """A script or command would use the machine's own directory at such a path, shared by every job."""
    unavailable = _sandbox_unavailable_reason()
    if binds and unavailable is not None:
        raise ProgramError(
            f"ClientError: CheckpointConfig.LocalPath {binds[0][1]} is outside /opt/ml; giving the job a "
            "private directory there needs a private mount namespace, and none is available here: "
            f"{unavailable}. Use a LocalPath under /opt/ml."
        )


def _container_program(
    command: list[str], paths: MLPaths, hosts_file: Path | None, binds: list[tuple[Path, str]]
) -> Program:
    """Run an entry-point command; /opt/ml is made to resolve to this host's root when possible."""
    unavailable = _sandbox_unavailable_reason()
    if unavailable is None:
        return Program(
            argv=sandbox.wrap_with_opt_ml(command, paths.root, hosts_file=hosts_file, binds=binds),
            cwd=paths.root,
            kind="command",
            opt_ml_view=True,
            shown=command,
        )
    _require_sandbox_for(binds)
    if any("/opt/ml" in part for part in command):
        raise ProgramError(
            "ClientError: This job's command uses absolute /opt/ml paths, which need a private mount "
            f"namespace, and none is available here: {unavailable}."
        )
    return Program(argv=command, cwd=paths.root, kind="command")


_KNOWN_SANDBOX: dict[str, str | None] = {}


def assume_sandbox(unavailable_reason: str | None) -> None:
    """Use a probe result from the launching side instead of probing again in every agent."""
    _KNOWN_SANDBOX["reason"] = unavailable_reason


@functools.cache
def _sandbox_unavailable_reason() -> str | None:
    """Probing bubblewrap runs a process; the answer does not change while the agent lives."""
    if "reason" in _KNOWN_SANDBOX:
        return _KNOWN_SANDBOX["reason"]
    return sandbox.sandbox_available()
