"""``requirements.txt`` in a script-mode job's code directory is pip-installed before the script runs,
as the SageMaker training toolkit does inside the container; command jobs (ContainerEntrypoint, such as
SDK v3's driver, which runs pip itself) get the same kind of environment as their ``python3``.

Here the "container's Python" is the server's, shared by every job, so packages go into an environment
of the job's own: a venv whose site-packages also sees the server's (a ``.pth`` file), so that
requirements already met are not installed again ("Requirement already satisfied", as in an image that
has them), and whatever is installed stays with the job. pip runs from the server's Python against that
venv (``pip --python``); the job's script then runs with the venv's interpreter.
"""

from __future__ import annotations

import site
import subprocess
import sys
import sysconfig
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO

REQUIREMENTS = "requirements.txt"
_TAIL_LINES = 20


class InstallRequirementsError(Exception):
    """pip failed; the message is the toolkit's InstallRequirementsError text."""


def has_requirements(code_dir: Path) -> bool:
    return (code_dir / REQUIREMENTS).is_file()


def install(code_dir: Path, env_dir: Path, log: Callable[[str], None], python: str = sys.executable) -> str:
    """Install ``code_dir/requirements.txt`` into a venv at ``env_dir``; return that venv's Python."""
    env_python = make_env(env_dir, python)
    command = [
        python, "-m", "pip", "--python", env_python, "install", "--disable-pip-version-check", "--no-input",
        "-r", REQUIREMENTS,
    ]  # fmt: skip
    shown = f"{Path(python).name} -m pip install -r {REQUIREMENTS}"
    log(f"Installing dependencies from {REQUIREMENTS}: {shown}")
    # The error message is pip's stderr, as the toolkit's: its progress ("Looking in indexes", ...) goes
    # to stdout and would crowd the 1024 characters of FailureReason.
    tail: deque[str] = deque(maxlen=_TAIL_LINES)

    def pump(stream: IO[bytes], keep: bool) -> None:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            log(line)
            if keep:
                tail.append(line)

    # Relative paths in requirements.txt are relative to the code directory, where the toolkit runs pip.
    with subprocess.Popen(
        command, cwd=code_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        errors = threading.Thread(target=pump, args=(process.stderr, True), daemon=True)
        errors.start()
        pump(process.stdout, False)
        errors.join()
    if process.returncode != 0:
        message = "\n".join(tail)
        raise InstallRequirementsError(
            f'InstallRequirementsError:\nExitCode {process.returncode}\nErrorMessage "{message}"\n'
            f'Command "{shown}"'
        )
    return env_python


def make_env(env_dir: Path, python: str = sys.executable) -> str:
    """A venv at ``env_dir`` that also sees the server's packages (pip among them); its Python."""
    subprocess.run(
        [python, "-m", "venv", "--without-pip", str(env_dir)], check=True, capture_output=True, timeout=120
    )
    env_python = env_dir / "bin" / "python"
    (_venv_purelib(env_dir, python) / "_trainplane_server_packages.pth").write_text(
        "\n".join(_server_site_dirs()) + "\n"
    )
    return str(env_python)


def _venv_purelib(env_dir: Path, python: str) -> Path:
    """The venv's site-packages: known here for a venv of this interpreter (no process to ask it)."""
    if Path(python).resolve() == Path(sys.executable).resolve():
        return Path(
            sysconfig.get_path("purelib", "venv", vars={"base": str(env_dir), "platbase": str(env_dir)})
        )
    asked = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Path(asked.stdout.strip())


def _server_site_dirs() -> list[str]:
    """The server's site-packages (a venv's own first), as its interpreter sees them."""
    dirs = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()]
    return list(dict.fromkeys(d for d in dirs if Path(d).is_dir()))
