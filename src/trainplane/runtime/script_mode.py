"""Script mode as the sagemaker-training toolkit does it: entry point, CLI arguments, code, failure file.

Framework estimators (SDK v2) send ``sagemaker_program`` and ``sagemaker_submit_directory`` as
hyperparameters whose values are JSON-encoded (``'"train.py"'``); the toolkit json-decodes every value,
strips its reserved keys and turns the rest into ``--key value`` arguments with Python ``str()``.
Everything here is a pure function except :func:`prepare_code` and :func:`write_failure_file`, whose
side effects are the point and whose inputs (paths, the fetch callable) are parameters.
"""

from __future__ import annotations

import json
import shlex
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from trainplane.errors import TrainplaneError
from trainplane.runtime.paths import MLPaths

PROGRAM_PARAM = "sagemaker_program"
SUBMIT_DIR_PARAM = "sagemaker_submit_directory"
LOG_LEVEL_PARAM = "sagemaker_container_log_level"
SAGEMAKER_PREFIX = "sagemaker_"
# toolkit params.SAGEMAKER_HYPERPARAMETERS: consumed by the toolkit itself, never shown to the script.
RESERVED_HYPERPARAMETERS = frozenset(
    {
        PROGRAM_PARAM,
        SUBMIT_DIR_PARAM,
        "sagemaker_enable_cloudwatch_metrics",
        "sagemaker_region",
        LOG_LEVEL_PARAM,
        "sagemaker_job_name",
        "default_user_module_name",
        "_tuning_objective_metric",
        "sagemaker_s3_output",
    }
)


class CodeArchiveError(TrainplaneError):
    """The submitted source archive cannot be installed (unsafe member, not a tar file)."""


def decode_hyperparameters(hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    """json-decode each value, keeping undecodable strings raw (``"0.1"`` → 0.1, ``"adam"`` stays)."""
    decoded: dict[str, Any] = {}
    for key, value in hyperparameters.items():
        try:
            decoded[key] = json.loads(value)
        except (ValueError, TypeError):
            decoded[key] = value
    return decoded


def is_sagemaker_key(key: str) -> bool:
    return key in RESERVED_HYPERPARAMETERS or key.startswith(SAGEMAKER_PREFIX)


def split_hyperparameters(decoded: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(user hyperparameters, sagemaker ones): the toolkit's ``split_by_criteria``."""
    user = {k: v for k, v in decoded.items() if not is_sagemaker_key(k)}
    sagemaker = {k: v for k, v in decoded.items() if is_sagemaker_key(k)}
    return user, sagemaker


def _arg_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in sorted(value.items()))
    return "" if value is None else str(value)


def to_cmd_args(hyperparameters: Mapping[str, str]) -> list[str]:
    """The user script's arguments, exactly like toolkit ``mapping.to_cmd_args`` on decoded user hps."""
    user, _ = split_hyperparameters(decode_hyperparameters(hyperparameters))
    args: list[str] = []
    for key in sorted(user):
        args += [f"--{key}" if len(key) > 1 else f"-{key}", _arg_value(user[key])]
    return args


@dataclass(frozen=True)
class UserEntry:
    """The user's program, where its code comes from, and the arguments it is run with."""

    program: str
    submit_directory: str | None = None
    args: tuple[str, ...] = ()

    @classmethod
    def from_hyperparameters(cls, hyperparameters: Mapping[str, str]) -> UserEntry | None:
        """None when the job is not a script-mode job (no ``sagemaker_program``)."""
        decoded = decode_hyperparameters(hyperparameters)
        program = decoded.get(PROGRAM_PARAM)
        if program is None:
            return None
        submit = decoded.get(SUBMIT_DIR_PARAM)
        return cls(str(program), None if submit is None else str(submit), tuple(to_cmd_args(hyperparameters)))

    @property
    def module_name(self) -> str:
        return self.program[:-3] if self.program.endswith(".py") else self.program


def _check_member(member: tarfile.TarInfo) -> None:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise CodeArchiveError(f"Attempted path traversal in source archive: {member.name!r}")
    if member.islnk() or member.issym():
        target = PurePosixPath(member.linkname)
        # a symlink's target is resolved from its own directory, a hard link's from the archive root.
        joined = target if target.is_absolute() or member.islnk() else name.parent / target
        if target.is_absolute() or ".." in _normalise(joined).parts:
            raise CodeArchiveError(f"Link escapes the code directory in source archive: {member.name!r}")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise CodeArchiveError(f"Unsupported member type in source archive: {member.name!r}")


def _normalise(path: PurePosixPath) -> PurePosixPath:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return PurePosixPath("..", *path.parts)
            parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts)


def extract_archive(archive: Path, destination: Path) -> None:
    """Extract a (gzipped) tar into destination, refusing anything that would land outside it."""
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member)
            # the "data" filter is a second line of defence (also drops setuid bits and device files).
            tar.extractall(destination, members=members, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise CodeArchiveError(f"Cannot extract source archive: {exc}") from exc


def prepare_code(entry: UserEntry, paths: MLPaths, fetch: Callable[[str, Path], None]) -> None:
    """Put the submitted code into ``paths.code``: fetch ``submit_directory`` to a local file, extract it.

    Like the toolkit, nothing happens when there is no submit directory or the code dir is already
    populated (a restarted attempt, or code the platform placed itself).
    """
    if entry.submit_directory is None:
        return
    paths.code.mkdir(parents=True, exist_ok=True)
    if any(paths.code.iterdir()):
        return
    with tempfile.TemporaryDirectory(dir=paths.root, prefix=".code-") as tmp:
        local = Path(tmp) / "sourcedir.tar.gz"
        fetch(entry.submit_directory, local)
        if local.is_dir():  # a fetch of a local directory (SDK local mode's file://) copies a tree
            shutil.copytree(local, paths.code, dirs_exist_ok=True)
        else:
            extract_archive(local, paths.code)


def make_entry_executable(entry: UserEntry, paths: MLPaths) -> None:
    """A non-Python entry point is run as ``./<program>``: the toolkit makes it executable first
    (mode 0o777), since archives and uploads often lose the exec bit."""
    program = paths.code / entry.program
    if not entry.program.endswith(".py") and program.is_file():
        program.chmod(0o777)


def user_command(entry: UserEntry, paths: MLPaths, python: str) -> list[str]:
    """The command line the toolkit's ProcessRunner builds (run it with cwd = ``paths.code``).

    A directory with ``setup.py`` is a package run with ``python -m`` (the toolkit pip-installs it
    first; we rely on cwd/PYTHONPATH instead). Non-Python entry points go through ``/bin/sh -c``;
    unlike the toolkit we quote the arguments, so values with spaces arrive as one argument.
    """
    args = list(entry.args)
    if (paths.code / "setup.py").exists():
        return [python, "-m", entry.program.replace(".py", ""), *args]
    if entry.program.endswith(".py"):
        return [python, entry.program, *args]
    return ["/bin/sh", "-c", " ".join([f"./{entry.program}", *map(shlex.quote, args)])]


def failure_message(exit_code: int, stderr_tail: str, command: Sequence[str] | str) -> str:
    """The toolkit's ExecuteUserScriptError text (the service prefixes ``AlgorithmError: ``)."""
    cmd = command if isinstance(command, str) else " ".join(command)
    message = f'ExecuteUserScriptError:\nExitCode {exit_code}\nErrorMessage "{stderr_tail}"\nCommand "{cmd}"'
    return message.strip()


def write_failure_file(paths: MLPaths, text: str) -> bool:
    """Write ``output/failure`` unless it exists (a user-written one wins); True when written."""
    paths.failure_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        # "x" makes the exists-check and the create one step: a racing user write still wins.
        with paths.failure_file.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return False
    return True


def container_command(algorithm_specification: Mapping[str, Any]) -> list[str] | None:
    """``ContainerEntrypoint`` + ``ContainerArguments`` (§5.1) as a local command line.

    None when there is no entrypoint: arguments alone (or neither) would run the *image's*
    ENTRYPOINT, which a runner without containers does not have; the caller fails the job with
    that reason.
    """
    entrypoint = list(algorithm_specification.get("ContainerEntrypoint") or [])
    if not entrypoint:
        return None
    return entrypoint + list(algorithm_specification.get("ContainerArguments") or [])
