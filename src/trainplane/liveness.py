"""Whether a process that recorded its pid (a server's state file, a control plane's heartbeat row) lives."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists on this machine (someone else's counts: EPERM)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recorded_process_alive(hostname: str, pid: int) -> bool:
    """Whether the process ``pid`` on ``hostname`` lives; one on another machine is taken as alive (its
    heartbeat, not a local pid, says whether it is)."""
    return hostname != socket.gethostname() or pid_alive(pid)


def process_arguments(pid: int) -> list[bytes] | None:
    """The command line of process ``pid`` (a recorded pid may since belong to another program), or
    ``None`` where it cannot be read (gone, or no /proc)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
