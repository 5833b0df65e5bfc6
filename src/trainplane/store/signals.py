"""In-process wake-ups for waiters on job status: a change made through this process's store wakes them at
once, so they need not poll the database often. Changes made by other processes are not seen here;
waiters fall back to polling for those."""

from __future__ import annotations

import threading


class StatusSignal:
    """A counter of status changes with a condition to wait on (``notify`` after a commit)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0

    def generation(self) -> int:
        """Read before looking at a status; pass it to ``wait`` to miss no change made after it."""
        with self._condition:
            return self._generation

    def notify(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Block until a change after generation ``seen`` or ``timeout`` seconds; True if one came."""
        with self._condition:
            return self._condition.wait_for(lambda: self._generation != seen, timeout)
