"""Built-in XGBoost's default thread count: the instance's vCPUs, capped by the cores the host may use."""

from __future__ import annotations

import os
import subprocess
import sys

from trainplane.algorithms.xgboost.contract import usable_cpus


def test_threads_follow_the_instance_type_within_the_hosts_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert usable_cpus({"SM_NUM_CPUS": "1"}) == 1
    assert usable_cpus({"SM_NUM_CPUS": str(cores + 6)}) == cores


def test_a_host_pinned_to_one_core_runs_one_thread_whatever_its_type_says() -> None:
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from trainplane.algorithms.xgboost.contract import usable_cpus; "
        "print(usable_cpus({'SM_NUM_CPUS': '8'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1"
