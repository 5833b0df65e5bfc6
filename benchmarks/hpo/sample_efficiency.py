"""Sample efficiency of trainplane's tuning strategies against Optuna's samplers.

    .venv/bin/python benchmarks/hpo/sample_efficiency.py            # full: 10 seeds, 100 trials
    .venv/bin/python benchmarks/hpo/sample_efficiency.py --quick    # 3 seeds, 50 trials, smoke test
    .venv/bin/python benchmarks/hpo/sample_efficiency.py --write benchmarks/hpo/RESULTS.md

Every method is driven through ask/tell on the same objective code: trainplane strategies get a
``History`` of frozen trials and return SageMaker-style string configs, Optuna samplers get a study.
``tp-bayes-q2`` asks for two configurations before telling either result (the second sees the first
as pending), i.e. parallelism 2. Simple regret after k trials = true value of the trial with the best
*observed* value among the first k, minus the optimum (for the noisy problem the optimiser never sees
the true value). The table holds medians over seeds.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one BLAS thread per worker process; 2 cores shared

import argparse
import datetime
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from problems import PROBLEMS, Problem

from trainplane.tuning.space import parse_parameter_ranges
from trainplane.tuning.strategies.base import History, Strategy, Trial, TrialStatus
from trainplane.tuning.strategies.bayesian import BayesianStrategy
from trainplane.tuning.strategies.random import RandomStrategy

METHODS = ("tp-random", "tp-bayes", "tp-bayes-q2", "optuna-tpe", "optuna-gp", "optuna-random")
CHECKPOINTS = (25, 50, 100)


def _ranges(problem: Problem) -> dict:
    return {
        "ContinuousParameterRanges": [
            {"Name": f"x{i}", "MinValue": repr(lo), "MaxValue": repr(hi), "ScalingType": "Linear"}
            for i, (lo, hi) in enumerate(problem.bounds)
        ]
    }


def _evaluate(problem: Problem, x: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """(value the optimiser observes, true value)."""
    true = problem.fn(x)
    return true + (rng.normal(scale=problem.noise) if problem.noise else 0.0), true


def run_trainplane(problem: Problem, strategy: Strategy, n: int, batch: int, seed: int) -> list[tuple]:
    noise_rng = np.random.default_rng(seed + 10_000)
    trials: list[Trial] = []
    out: list[tuple[float, float]] = []
    while len(trials) < n:
        start = len(trials)
        for _ in range(min(batch, n - start)):
            config = strategy.suggest(History(tuple(trials)))
            if config is None:
                raise RuntimeError("strategy ran out of suggestions")
            trials.append(Trial(str(len(trials)), config, TrialStatus.PENDING))
        for i in range(start, len(trials)):
            x = np.array([float(trials[i].config[f"x{d}"]) for d in range(problem.dim)])
            seen, true = _evaluate(problem, x, noise_rng)
            trials[i] = Trial(trials[i].id, trials[i].config, TrialStatus.COMPLETED, objective=seen)
            out.append((seen, true))
    return out


def run_optuna(problem: Problem, make_sampler: Callable, n: int, seed: int) -> list[tuple]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    noise_rng = np.random.default_rng(seed + 10_000)
    study = optuna.create_study(sampler=make_sampler(seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        x = np.array([trial.suggest_float(f"x{d}", lo, hi) for d, (lo, hi) in enumerate(problem.bounds)])
        seen, true = _evaluate(problem, x, noise_rng)
        study.tell(trial, seen)
        out.append((seen, true))
    return out


def run_one(job: tuple[str, int, int, int]) -> tuple[str, str, int, list[float], float]:
    method, problem_index, seed, n = job
    import warnings

    warnings.filterwarnings("ignore")
    import optuna

    problem = PROBLEMS[problem_index]
    space = parse_parameter_ranges(_ranges(problem))
    started = time.perf_counter()
    if method == "tp-random":
        results = run_trainplane(problem, RandomStrategy(space, seed=seed), n, 1, seed)
    elif method == "tp-bayes":
        results = run_trainplane(problem, BayesianStrategy(space, seed=seed), n, 1, seed)
    elif method == "tp-bayes-q2":
        results = run_trainplane(problem, BayesianStrategy(space, seed=seed), n, 2, seed)
    else:
        make = {
            "optuna-tpe": lambda s: optuna.samplers.TPESampler(seed=s),
            "optuna-gp": lambda s: optuna.samplers.GPSampler(seed=s),
            "optuna-random": lambda s: optuna.samplers.RandomSampler(seed=s),
        }[method]
        results = run_optuna(problem, make, n, seed)
    elapsed = time.perf_counter() - started
    regrets, best_seen, best_true = [], float("inf"), float("inf")
    for seen, true in results:
        if seen < best_seen:
            best_seen, best_true = seen, true
        regrets.append(best_true - problem.optimum)
    return method, problem.name, seed, regrets, elapsed


def suggest_overhead(n_completed: int, repeats: int = 5) -> tuple[float, float]:
    """Median and max seconds of one Bayesian ``suggest`` on Hartmann6 with ``n_completed`` results."""
    problem = next(p for p in PROBLEMS if p.name == "Hartmann6")
    space = parse_parameter_ranges(_ranges(problem))
    rng = np.random.default_rng(0)
    trials = []
    for i in range(n_completed):
        config = space.from_unit(rng.random(space.dim))
        x = np.array([float(config[f"x{d}"]) for d in range(problem.dim)])
        trials.append(Trial(str(i), config, TrialStatus.COMPLETED, objective=problem.fn(x)))
    history = History(tuple(trials))
    strategy = BayesianStrategy(space, seed=0)
    strategy.suggest(history)  # first call fits from the default start; later calls warm-start
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        strategy.suggest(history)
        times.append(time.perf_counter() - started)
    return float(np.median(times)), float(np.max(times))


def _fmt(x: float) -> str:
    return f"{x:.2g}" if x >= 1e-3 or x == 0 else f"{x:.1e}"


def build_report(
    rows: list, seeds: dict[str, int], n: int, wall: float, stuck_above: float | None = None
) -> list[str]:
    by: dict[tuple[str, str], list[list[float]]] = {}
    times: dict[str, list[float]] = {}
    for method, name, _seed, regrets, elapsed in rows:
        by.setdefault((method, name), []).append(regrets)
        times.setdefault(method, []).append(elapsed)
    checkpoints = [c for c in CHECKPOINTS if c <= n]
    lines = ["Median simple regret over seeds (columns: trials). Lower is better.", ""]
    header = "| problem | method | seeds | " + " | ".join(f"@{c}" for c in checkpoints) + " |"
    lines += [header, "|" + "---|" * (3 + len(checkpoints))]
    median: dict[tuple[str, str, int], float] = {}
    for problem in PROBLEMS:
        for method in METHODS:
            runs = by.get((method, problem.name))
            if not runs:
                continue
            cells = []
            for c in checkpoints:
                median[method, problem.name, c] = float(np.median([r[c - 1] for r in runs]))
                cells.append(_fmt(median[method, problem.name, c]))
            lines.append(f"| {problem.name} | {method} | {len(runs)} | " + " | ".join(cells) + " |")
    if stuck_above is not None:
        lines += _stuck_table(by, checkpoints, stuck_above)
    lines += ["", "Goal check (Bayesian beats TPE on >= 6 of 8; within 10x of GPSampler):", ""]
    for c in checkpoints[1:]:
        for bayes in ("tp-bayes", "tp-bayes-q2"):
            wins, close, both = 0, 0, 0
            for p in PROBLEMS:
                ours = median.get((bayes, p.name, c))
                tpe, gp = median.get(("optuna-tpe", p.name, c)), median.get(("optuna-gp", p.name, c))
                if ours is None or tpe is None or gp is None:
                    continue
                both += 1
                wins += ours < tpe
                close += ours <= 10 * gp + 1e-9
            if both:
                lines.append(
                    f"- @{c} {bayes}: beats TPE on {wins}/{both}; within 10x of GPSampler on {close}/{both}"
                )
    lines += ["", "Mean wall seconds per run (one seed, one problem):", ""]
    lines += [f"- {m}: {np.mean(t):.1f}s over {len(t)} runs (seeds {seeds[m]})" for m, t in times.items()]
    lines += ["", f"Total wall time: {wall:.0f}s"]
    return lines


def _stuck_table(
    by: dict[tuple[str, str], list[list[float]]], checkpoints: list[int], above: float
) -> list[str]:
    """How many runs have a regret above ``above``: with a median of few seeds, the count of runs left
    in a local minimum (Hartmann6's second basin is at regret 0.119) decides the median."""
    lines = ["", f"Runs with simple regret above {above:g} (columns: trials):", ""]
    lines += ["| problem | method | " + " | ".join(f"@{c}" for c in checkpoints) + " |"]
    lines += ["|" + "---|" * (2 + len(checkpoints))]
    for problem in PROBLEMS:
        for method in METHODS:
            runs = by.get((method, problem.name))
            if runs:
                counts = [f"{sum(r[c - 1] > above for r in runs)}/{len(runs)}" for c in checkpoints]
                lines.append(f"| {problem.name} | {method} | " + " | ".join(counts) + " |")
    return lines


BEGIN, END = "<!-- sample-efficiency:begin -->", "<!-- sample-efficiency:end -->"


def _write_section(path: str, text: str) -> None:
    """Replace this benchmark's marked section of ``path`` (shared with other HPO benchmarks), or
    put it first when absent."""
    section = f"{BEGIN}\n{text}\n{END}\n"
    try:
        with open(path) as f:
            current = f.read()
    except FileNotFoundError:
        current = ""
    if BEGIN in current and END in current:
        before, rest = current.split(BEGIN, 1)
        updated = before + section + rest.split(END, 1)[1].lstrip("\n")
    else:
        updated = "# HPO benchmark results\n\n" + section + "\n" + current.lstrip("\n")
    with open(path, "w") as f:
        f.write(updated)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, 50 trials")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--gp-seeds", type=int, default=10, help="seeds for optuna-gp (the slowest)")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--problems", default="", help="comma-separated names; default all")
    parser.add_argument("--write", default="", help="also write the report (markdown) to this path")
    parser.add_argument("--stuck-above", type=float, help="also count the runs with a regret above this")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.gp_seeds, args.trials = 3, 3, 50
    methods = args.methods.split(",")
    wanted = set(args.problems.split(",")) if args.problems else {p.name for p in PROBLEMS}
    seeds = {m: (min(args.gp_seeds, args.seeds) if m == "optuna-gp" else args.seeds) for m in methods}
    jobs = [
        (m, i, s, args.trials)
        for m in methods
        for i, p in enumerate(PROBLEMS)
        if p.name in wanted
        for s in range(seeds[m])
    ]
    jobs.sort(key=lambda j: j[0] not in ("optuna-gp", "tp-bayes", "tp-bayes-q2"))  # slow ones first
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(run_one, jobs))
    lines = build_report(rows, seeds, args.trials, time.perf_counter() - started, args.stuck_above)
    overhead = ["", "Bayesian suggest time (Hartmann6, 6 dims, median/max of 5 calls, warm-started fit):", ""]
    for n in (100, 500):
        med, worst = suggest_overhead(n)
        overhead.append(f"- {n} completed trials: median {med * 1000:.0f} ms, max {worst * 1000:.0f} ms")
    lines += overhead
    print("\n".join(lines))
    if args.write:
        command = "python benchmarks/hpo/sample_efficiency.py " + " ".join(argv or sys.argv[1:])
        head = [
            "## Sample efficiency (`sample_efficiency.py`, tuning-package engineer)",
            "",
            f"- Command: `{command.strip()}`",
            f"- Date: {datetime.date.today().isoformat()}",
            f"- Machine: {platform.machine()}, {os.cpu_count()} CPUs visible, "
            f"{args.workers} worker processes, Python {platform.python_version()}",
            "",
        ]
        _write_section(args.write, "\n".join(head + lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
