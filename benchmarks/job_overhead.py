"""Per-job overhead: a no-op script-mode job, N times, through the real machinery.

    .venv/bin/python benchmarks/job_overhead.py [--jobs 50] [--warmup 2] [--floor-repeats 10]

``TrainPlane`` with a temporary home (SQLite store, background reconciler, local executor, runtime agent
process per job) runs a script-mode job whose ``train.py`` is one line::

    import time; print(f"BENCH_FIRST_LINE {time.time():.6f}", flush=True)

Jobs are submitted one after another (the next only once the previous is Completed). Timestamps, all
``time.time()`` on this machine:

* submit       the benchmark, just before ``create_training_job``
* created      the job's CreationTime (the service, inside the call)
* launch       the attempt's launch time (the reconciler, just before it spawns the agent)
* agent exec   the agent process's start time (psutil, kernel clock ticks: 10 ms resolution)
* Downloading  the agent's first event, written when ``Agent.run`` starts (after its imports)
* Training     the agent's event just before it spawns the user program
* first line   the user script's first line: the ``time.time()`` it printed, read back from the job's log
  events. "Process start" means this moment: the interpreter is up and user code runs.
* exit         ``result.json``'s time: the agent saw the program exit and reaped leftovers
* Uploading    the reconciler noticed every host exited and began finishing (secondary status)
* Completed    the job's TrainingEndTime: the control plane's clock just before the terminal status write
* observed     ``wait_for_training_job`` (polling every 20 ms) returned

Also measured (``--floor-repeats`` runs each, median): bare interpreter start, importing the agent module,
the sandbox wrapper around ``python -c pass``, and the import cost by top-level package of the agent.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from _common import machine_line, median, percentile, script_request, source_archive, table

from trainplane import TrainPlane

NOOP_SCRIPT = 'import time; print(f"BENCH_FIRST_LINE {time.time():.6f}", flush=True)\n'
MARKER = "BENCH_FIRST_LINE "
GOAL_START_MS = 150.0
GOAL_COMPLETED_MS = 500.0
STAGES = (
    ("submit → created (API call)", "submit", "created"),
    ("created → launch (reconciler claims, spawns)", "created", "launch"),
    ("launch → agent exec (fork/exec)", "launch", "agent_exec"),
    ("agent exec → Downloading (interpreter + agent imports)", "agent_exec", "downloading"),
    ("Downloading → Training (layout, staging, code, program)", "downloading", "training"),
    ("Training → first line (sandbox + user interpreter)", "training", "first_line"),
    ("first line → exit recorded (script end, agent reaps)", "first_line", "exit"),
    ("exit → Uploading (reconciler notices)", "exit", "uploading"),
    ("Uploading → Completed (package model, write status)", "uploading", "completed"),
    ("Completed → observed by client (poll)", "completed", "observed"),
)


@dataclass(frozen=True)
class JobTimes:
    submit: float
    created: float
    launch: float
    agent_exec: float
    downloading: float
    training: float
    first_line: float
    exit: float
    uploading: float
    completed: float
    observed: float


def _events(agent_dir: Path) -> dict[str, float]:
    lines = (agent_dir / "events.jsonl").read_text().splitlines()
    return {event["event"]: float(event["time"]) for event in map(json.loads, lines)}


def _precise_create_time(create_time: float) -> float:
    """psutil adds /proc/stat's btime, whole seconds; swap it for the boot time to the microsecond."""
    boot = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
    return create_time - psutil.boot_time() + boot


def _first_line(tp: TrainPlane, name: str) -> float:
    for event in tp.log_events(name):
        if event.message.startswith(MARKER):
            return float(event.message[len(MARKER) :])
    raise RuntimeError(f"{name}: the no-op script's line is missing from the log events")


def run_job(tp: TrainPlane, request: dict[str, object]) -> JobTimes:
    name = str(request["TrainingJobName"])
    submit = time.time()
    tp.create_training_job(**request)
    description = tp.wait_for_training_job(name, timeout=120, poll=0.02)
    observed = time.time()
    if description["TrainingJobStatus"] != "Completed":
        raise RuntimeError(f"{name}: {description['TrainingJobStatus']}: {description.get('FailureReason')}")
    store = tp.platform.store
    job = store.get_training_job(name)
    attempt = store.attempts(name)[-1]
    if job is None or job.training_end_time is None:
        raise RuntimeError(f"{name}: no stored end time")
    host = attempt.hosts[0]
    agent_dir = Path(host["agent_dir"])
    events = _events(agent_dir)
    result = json.loads((agent_dir / "result.json").read_text())
    uploading = next(t.start_time for t in job.transitions if t.status == "Uploading")
    return JobTimes(
        submit=submit,
        created=job.creation_time,
        launch=attempt.launch_time,
        agent_exec=_precise_create_time(float(host.get("create_time") or attempt.launch_time)),
        downloading=events["Downloading"],
        training=events["Training"],
        first_line=_first_line(tp, name),
        exit=float(result["time"]),
        uploading=uploading,
        completed=job.training_end_time,
        observed=observed,
    )


def run_jobs(count: int, warmup: int) -> list[JobTimes]:
    with tempfile.TemporaryDirectory(prefix="tp-overhead-") as tmp:
        root = Path(tmp)
        code_uri = source_archive(root / "code", NOOP_SCRIPT)
        output = f"file://{root}/output"
        times: list[JobTimes] = []
        with TrainPlane(home=root / "home") as tp:
            for index in range(warmup + count):
                request = script_request(f"noop-{index:03d}", code_uri, output)
                measured = run_job(tp, request)
                if index >= warmup:
                    times.append(measured)
        return times


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def totals_table(times: list[JobTimes]) -> str:
    rows = []
    for label, end in (
        ("submit → process start (first line)", "first_line"),
        ("submit → Completed", "completed"),
    ):
        values = [getattr(t, end) - t.submit for t in times]
        goal = GOAL_START_MS if end == "first_line" else GOAL_COMPLETED_MS
        p50 = percentile(values, 50)
        verdict = "met" if p50 * 1000 <= goal else "missed"
        rows.append(
            [label, _ms(p50), _ms(percentile(values, 95)), _ms(max(values)), f"<= {goal:.0f}", verdict]
        )
    observed = [t.observed - t.submit for t in times]
    p50, p95 = percentile(observed, 50), percentile(observed, 95)
    rows.append(["submit → observed Completed (20 ms poll)", _ms(p50), _ms(p95), _ms(max(observed)), "", ""])
    return table(["interval", "p50 ms", "p95 ms", "max ms", "goal p50 ms", "verdict"], rows)


def breakdown_table(times: list[JobTimes]) -> str:
    rows = []
    total = median([t.observed - t.submit for t in times])
    for label, start, end in STAGES:
        values = [getattr(t, end) - getattr(t, start) for t in times]
        rows.append([label, _ms(percentile(values, 50)), _ms(percentile(values, 95)),
                     f"{100 * percentile(values, 50) / total:.0f}%"])  # fmt: skip
    return table(["stage", "p50 ms", "p95 ms", "share of p50 total"], rows)


# ----------------------------------------------------------------------------------- process floors
def _wall(argv: list[str], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return median(samples)


def _agent_without_package_init() -> str:
    """Import the agent with ``trainplane/__init__`` replaced by an empty package (a lazy init's cost)."""
    import trainplane

    package_dir = str(Path(trainplane.__file__).parent)
    return (
        "import sys, types; package = types.ModuleType('trainplane'); "
        f"package.__path__ = [{package_dir!r}]; sys.modules['trainplane'] = package; "
        "import trainplane.runtime.agent"
    )


def floors_table(repeats: int) -> str:
    from trainplane.runtime import sandbox

    python = sys.executable
    probe_start = time.perf_counter()
    sandbox_missing = sandbox.sandbox_available()
    probe = time.perf_counter() - probe_start
    agent_import = [python, "-c", "import trainplane.runtime.agent"]
    rows = [
        ["python -c pass", _ms(_wall([python, "-c", "pass"], repeats))],
        ["python -I -S -c pass (no site)", _ms(_wall([python, "-I", "-S", "-c", "pass"], repeats))],
        ["python -c 'import trainplane.runtime.agent'", _ms(_wall(agent_import, repeats))],
        [
            "  the same, trainplane/__init__ skipped",
            _ms(_wall([python, "-c", _agent_without_package_init()], repeats)),
        ],
        ["sandbox probe (sandbox_available(), once per agent)", _ms(probe)],
    ]
    if sandbox_missing is None:
        with tempfile.TemporaryDirectory(prefix="tp-sandbox-") as root:
            wrapped = sandbox.wrap_with_opt_ml([python, "-c", "pass"], Path(root))
            rows.append(["bwrap /opt/ml sandbox + python -c pass", _ms(_wall(wrapped, repeats))])
    return table(["process", "median ms"], rows)


def import_costs(module: str, top: int = 10) -> str:
    """``module``'s import time in a fresh interpreter, split by top-level package (self times summed)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    costs: dict[str, int] = {}
    total = 0
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, self_us, cumulative_us, name = (
            part.strip() for part in line.replace("import time:", "|").split("|")
        )
        package = name.split(".", 1)[0]
        costs[package] = costs.get(package, 0) + int(self_us)
        if name == module:
            total = int(cumulative_us)
    ranked = sorted(costs.items(), key=lambda item: -item[1])[:top]
    rows = [
        [f"{module} (total)", f"{total / 1000:.0f}"],
        *([name, f"{us / 1000:.0f}"] for name, us in ranked),
    ]
    return table(["module / top-level package (self times summed)", "import ms"], rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=2, help="jobs run first and not counted")
    parser.add_argument("--floor-repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"job_overhead: {args.jobs} no-op script-mode jobs (+{args.warmup} warm-up), one after another")
    print(machine_line())
    started = time.perf_counter()
    times = run_jobs(args.jobs, args.warmup)
    print("\n## Totals (process start = the user script's first line printed time.time())\n")
    print(totals_table(times))
    print("\n## Where the time goes (per-stage p50/p95 over the jobs)\n")
    print(breakdown_table(times))
    print(f"\n## Process floors (median of {args.floor_repeats})\n")
    print(floors_table(args.floor_repeats))
    print("\n## Importing trainplane.runtime.agent: total, heaviest packages (python -X importtime)\n")
    print(import_costs("trainplane.runtime.agent"))
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
