"""A control loop's start freezes the objects its process holds (out of full collections), once per
process, after collecting the garbage there is: nothing unreachable is frozen, and objects made later
are still collected. Run in a fresh interpreter, whose first control loop this is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import gc, json, sys, weakref
from trainplane import TrainPlane

class Node:
    pass

def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)

gc.disable()  # only the control loop's own collection may free the first cycle
garbage_before = cycle()
with TrainPlane(environ={"TRAINPLANE_HOME": sys.argv[1]}) as first:
    frozen = gc.get_freeze_count()
    freed_before = garbage_before() is None
with TrainPlane(environ={"TRAINPLANE_HOME": sys.argv[1]}) as second:
    frozen_again = gc.get_freeze_count()
gc.enable()
garbage_after = cycle()
gc.collect()
print(json.dumps({"frozen": frozen, "frozen_again": frozen_again, "freed_before": freed_before,
                  "freed_after": garbage_after() is None}))
"""


def test_the_first_control_loop_freezes_what_its_process_holds_and_no_garbage(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "home")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["frozen"] > 10_000  # trainplane's and its libraries' objects
    assert result["freed_before"]  # collected before freezing, not frozen
    # A second TrainPlane freezes nothing more (the count may drop: frozen objects still die by refcount).
    assert result["frozen_again"] <= result["frozen"]
    assert result["freed_after"]  # objects made after the start are collected as usual
