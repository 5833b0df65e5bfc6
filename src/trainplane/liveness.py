"""Whether a process that recorded its pid (a server's state file, a control plane's heartbeat row) lives."""

from __future__ import annotations

import os
import socket


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
