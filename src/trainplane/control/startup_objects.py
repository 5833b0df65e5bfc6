"""Keep the objects a process holds when its control loop starts out of Python's full collections.

A control plane's process holds over 100k objects the collector tracks once trainplane, SQLAlchemy and
the rest are imported: modules, classes, functions, the user's own data, most of them alive as long as
the process. The store's allocation churn (dicts per stored log line) triggers a full (generation 2)
collection every dozen jobs or so, and each one walks all of them: 69-85 ms of CPU, holding the GIL, in
the middle of a job whose hosts share the machine's cores (`benchmarks/control_plane_load.py --jobs 12`,
one such collection in each run of 12 jobs). Moved to the permanent generation with ``gc.freeze()``,
they are no longer walked; reference counting still frees any of them that stops being used, only
cycles among them would outlive their use.

Once per process: objects created later (another ``TrainPlane`` in the same notebook, each test's
platform) stay under the collector's normal rules.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_frozen = False


def freeze_once() -> None:
    """Collect the garbage there is now, then freeze what is left (the first call in a process only)."""
    global _frozen
    with _lock:
        if _frozen:
            return
        _frozen = True
        gc.collect()  # garbage frozen now would never be freed
        gc.freeze()
