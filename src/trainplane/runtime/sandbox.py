"""Run a command with ``/opt/ml`` resolving to a host's root, using bubblewrap (Debian: ``bubblewrap``).

SDK v3 ``ModelTrainer(source_code=...)`` jobs run ``/bin/bash -c "... /opt/ml/input/data/sm_drivers/
sm_train.sh"``: absolute /opt/ml paths, no variables to redirect them. A private mount namespace
gives each process its own /opt/ml without touching the host's.

The recipe, and why:

* ``--dev-bind / /``: the process sees the host as it is (this is a path remap, not isolation).
* ``/opt/ml`` on the host usually does not exist, and bwrap creates missing mount points *on the
  host* when it can (as root it silently made /opt/ml here). So /opt is replaced by a tmpfs inside
  the namespace, each host /opt entry is bound back (symlinks recreated), and the root is bound on
  /opt/ml in the tmpfs. Nothing is written on the host. If the host has a /opt/ml directory, the root
  is bound straight over it (hiding its content, as SageMaker hides an image's /opt/ml).
* ``/etc/hosts``: a copy with the job's host names added (``hosts_file``) is bound over it, so that
  ``algo-1`` resolves as on SageMaker's cluster network (scripts that meet at ``tcp://{hosts[0]}:port``).
* ``--die-with-parent``: if the runner dies, bwrap and the job are SIGKILLed, no orphans.
* Signals: bwrap does not forward signals. SIGTERM to bwrap kills bwrap, and --die-with-parent then
  SIGKILLs the job, so its SIGTERM handler (save the model) never runs. So bwrap is started with
  SIGTERM/SIGINT *ignored* (``env --ignore-signal``) and the job with them reset to default (``env
  --default-signal``, coreutils >= 8.31). Stop a job by signalling its **process group** (start it
  with ``start_new_session=True``, then ``os.killpg(pid, SIGTERM)``): the job gets SIGTERM, bwrap
  survives, waits for it and exits with its status (a job killed by signal N reads as 128+N).
  SIGKILL to the group after the grace period ends everything.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from trainplane.runtime.paths import OPT_ML

HOST_OPT = Path("/opt")
SYSTEM_HOSTS = Path("/etc/hosts")
_SIGNALS = ("TERM", "INT")


def _opt_mount_args(host_opt: Path) -> list[str]:
    """Arguments that give the namespace a /opt/ml mount point without creating one on the host."""
    if (host_opt / "ml").is_dir():
        return []
    args = ["--tmpfs", str(HOST_OPT)]
    for entry in sorted(host_opt.iterdir()):
        if entry.name == "ml":
            continue  # a non-directory /opt/ml on the host is simply hidden
        target = f"{HOST_OPT}/{entry.name}"
        if entry.is_symlink():
            args += ["--symlink", str(entry.readlink()), target]
        else:
            args += ["--dev-bind", str(entry), target]
    return args


def write_hosts_file(path: Path, addresses: Mapping[str, str], system: Path = SYSTEM_HOSTS) -> Path:
    """``path``: the machine's hosts file plus a line per job host (``addresses``: name -> address)."""
    try:
        base = system.read_text()
    except OSError:
        base = "127.0.0.1\tlocalhost\n"
    lines = [f"{address}\t{name}" for name, address in addresses.items()]
    path.write_text(base.rstrip("\n") + "\n# trainplane: the job's hosts\n" + "\n".join(lines) + "\n")
    return path


def wrap_with_opt_ml(
    command: Sequence[str],
    root: Path,
    *,
    hosts_file: Path | None = None,
    chdir: str | None = None,
    binds: Sequence[tuple[Path, str]] = (),
    bwrap: str = "bwrap",
    host_opt: Path = HOST_OPT,
) -> list[str]:
    """``command`` run so that ``/opt/ml`` is ``root`` (and ``/etc/hosts`` is ``hosts_file``, when given),
    each ``(source, path)`` of ``binds`` is mounted at ``path``, in the sandbox's directory ``chdir`` if
    given; see the module docstring for signals.

    ``host_opt`` is the host's /opt (a parameter so tests can describe another host).
    """
    if not command:
        raise ValueError("wrap_with_opt_ml needs a command")
    ignore = [f"--ignore-signal={sig}" for sig in _SIGNALS]
    default = [f"--default-signal={sig}" for sig in _SIGNALS]
    hosts = ["--ro-bind", str(Path(hosts_file).resolve()), str(SYSTEM_HOSTS)] if hosts_file else []
    return [
        "env", *ignore, bwrap,
        "--dev-bind", "/", "/",
        *_opt_mount_args(host_opt),
        "--bind", str(Path(root).resolve()), OPT_ML,
        *[arg for source, path in binds for arg in ("--bind", str(Path(source).resolve()), path)],
        *hosts,
        *(["--chdir", chdir] if chdir else []),
        "--die-with-parent",
        "--",
        "env", *default, *command,
    ]  # fmt: skip


def _probe_failure(stderr: str) -> str:
    lowered = stderr.lower()
    if "namespace" in lowered or "uid map" in lowered or "operation not permitted" in lowered:
        return f"user namespaces are disabled or not permitted here ({stderr.strip()})"
    return f"bubblewrap cannot create the /opt/ml sandbox: {stderr.strip()}"


def sandbox_available(
    *, bwrap: str = "bwrap", host_opt: Path = HOST_OPT, timeout: float = 10.0
) -> str | None:
    """None when :func:`wrap_with_opt_ml` commands can run here, else the reason they cannot.

    Runs one short probe (``true`` inside the sandbox) because namespace permissions are only
    known by trying; callers should ask once at start-up and keep the answer.
    """
    if shutil.which(bwrap) is None:
        return "bubblewrap (bwrap) is not installed"
    if not host_opt.is_dir():
        return f"{host_opt} does not exist on this host, so /opt/ml cannot be mounted without creating it"
    probe_root = Path("/")  # any existing directory will do as the bound root
    command = wrap_with_opt_ml(["true"], probe_root, bwrap=bwrap, host_opt=host_opt)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap probe failed: {exc}"
    if result.returncode == 125 or "unrecognized option" in result.stderr:
        return f"env does not support --ignore-signal (coreutils >= 8.31 needed): {result.stderr.strip()}"
    if result.returncode != 0:
        return _probe_failure(result.stderr)
    return None
