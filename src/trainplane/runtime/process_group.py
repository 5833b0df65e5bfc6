"""Whether a signal sent to a process group now would reach the algorithm in it (Linux ``/proc``).

The agent stops an algorithm by signalling its process group. Right after the group starts, the
algorithm may not be listening yet: inside the /opt/ml sandbox the group holds only ``env`` and
``bwrap``, which run with SIGTERM ignored (``runtime.sandbox``) until the job's own process resets it;
a pre-loaded interpreter leads its group only once it called ``setsid``. A SIGTERM sent then is lost,
and the job would run on until the grace period's SIGKILL. ``hears`` tells the agent to send it again
once some process of the group no longer ignores it.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def members(pgid: int, proc: Path = PROC) -> list[int]:
    """PIDs whose process group is ``pgid``."""
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # Fields after the command (which may hold spaces and parentheses): state, ppid, pgrp, ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def ignores(pid: int, signum: int, proc: Path = PROC) -> bool:
    """Whether ``pid`` ignores ``signum`` (its ``SigIgn`` mask); a process gone ignores everything."""
    try:
        status = (proc / str(pid) / "status").read_text()
    except OSError:
        return True
    for line in status.splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return True


def hears(pgid: int, signum: int, proc: Path = PROC) -> bool:
    """Whether a process of group ``pgid`` would act on ``signum``; True where /proc cannot tell."""
    if not (proc / str(os.getpid()) / "status").exists():
        return True  # no Linux /proc: signal once, as before
    return any(not ignores(pid, signum, proc) for pid in members(pgid, proc))
