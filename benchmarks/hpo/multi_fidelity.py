"""Multi-fidelity savings: Hyperband and Auto early stopping vs full-fidelity random search.

    .venv/bin/python benchmarks/hpo/multi_fidelity.py [--configs 60] [--pool 300] [--orders 20] [--rounds 81]
        [--pool-seed 0]

XGBoost on scikit-learn's breast_cancer (binary, logloss) and digits (10 classes, mlogloss), boosting
rounds as epochs: one validation-loss report per round, as the built-in XGBoost prints it.

In-process simulation (not through the job machinery, so that it runs in minutes): each of ``--pool``
random configurations is trained once for the full ``--rounds`` with ``xgboost.train`` and its
per-round validation curve is recorded; each method then replays those curves round by round, exactly
the objective emissions a child job would make, and asks its stopping rule after every report. Trials
run one after another (MaxParallelTrainingJobs=1). Every method sees the same configurations in the
same order (common random numbers); results are over ``--orders`` random orders of the pool.

* ``random``: no stopping (the baseline, every trial runs all rounds);
* ``tp-hyperband``: trainplane's ``HyperbandStrategy.should_stop`` with MinResource omitted (the
  default, MaxResource // 9; rungs ranked by projected final value); ``tp-hyperband-min1``:
  MinResource 1 (the default before);
* ``tp-auto``: trainplane's ``MedianStoppingRule`` (TrainingJobEarlyStoppingType=Auto);
* ``optuna-sha`` / ``optuna-median``: Optuna's SuccessiveHalvingPruner (defaults, and with trainplane's
  reduction factor and first rung: plain ASHA ranking by the value at the rung, the reference for
  ``tp-hyperband``'s projection) / MedianPruner on the same trials (``enqueue_trial``, ``report``,
  ``should_prune``).

The curves are cached under ``benchmarks/.work/multi_fidelity/`` (git-ignored), keyed by dataset,
configurations, rounds and XGBoost version: a re-run replays them in seconds instead of retraining.

The issue's measure is the compute (total rounds) to first reach the quality of random search at full
fidelity. Per order: random search runs the first ``--configs`` trials of the order to completion; its
best final loss, +1 %, is the target, and its rounds until a trial first reaches the target are the
baseline. A method replays the same order, past ``--configs`` trials if its savings allow, until a
trial's final (or, if stopped, last) value reaches the target; if it has not by the time it has spent
random search's whole budget (``--configs`` x ``--rounds``), it missed, and the miss is charged that
whole budget. "Saved to target" = 1 - (sum of the method's rounds) / (sum of random's) over the
orders. "Total saved" and "final gap" are for the first ``--configs`` trials, i.e. a tuning job with
the same MaxNumberOfTrainingJobs: rounds saved, and how much worse (percent) the best value found is
than random search's (mean and worst over orders).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

from trainplane.tuning import History, HyperbandStrategy, MedianStoppingRule, Trial, TrialStatus
from trainplane.tuning.space import parse_parameter_ranges
from trainplane.tuning.strategies import default_min_resource

Curve = list[float]
Rule = Callable[[int], "StopRule"]
TOLERANCE = 0.01
CACHE = Path(__file__).resolve().parents[1] / ".work" / "multi_fidelity"  # git-ignored


def sample_configs(n: int, seed: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    return [
        {
            "eta": float(10 ** rng.uniform(-2, -0.3)),
            "max_depth": int(rng.integers(1, 11)),
            "min_child_weight": float(rng.uniform(1, 10)),
            "subsample": float(rng.uniform(0.5, 1)),
            "colsample_bytree": float(rng.uniform(0.5, 1)),
            "lambda": float(10 ** rng.uniform(-3, 1)),
        }
        for _ in range(n)
    ]


def cached_curves(dataset: str, configs: list[dict[str, float]], rounds: int) -> list[Curve]:
    """``curves``, kept on disk: training the pool takes minutes and the curves are deterministic.
    The key covers everything they depend on, so a changed pool or XGBoost version retrains."""
    key = json.dumps([dataset, configs, rounds, xgb.__version__], sort_keys=True)
    path = CACHE / f"{dataset}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    if path.exists():
        return list(json.loads(path.read_text()))
    out = curves(dataset, configs, rounds)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(path)
    return out


def curves(dataset: str, configs: list[dict[str, float]], rounds: int) -> list[Curve]:
    data = load_breast_cancer() if dataset == "breast_cancer" else load_digits()
    x_train, x_val, y_train, y_val = train_test_split(data.data, data.target, test_size=0.3, random_state=0)
    train, valid = xgb.DMatrix(x_train, label=y_train), xgb.DMatrix(x_val, label=y_val)
    base = {"objective": "binary:logistic", "eval_metric": "logloss"}
    if dataset == "digits":
        base = {"objective": "multi:softprob", "num_class": 10, "eval_metric": "mlogloss"}
    out = []
    for config in configs:
        history: dict[str, dict[str, list[float]]] = {}
        params = {**base, **config, "nthread": 1, "verbosity": 0}
        xgb.train(
            params, train, rounds, evals=[(valid, "validation")], evals_result=history, verbose_eval=False
        )
        out.append(list(history["validation"][base["eval_metric"]]))
    return out


class StopRule:
    def begin(self, trial: int) -> None: ...
    def report(self, trial: int, curve_prefix: Curve) -> bool:
        return False


class Trainplane(StopRule):
    def __init__(self, rule: HyperbandStrategy | MedianStoppingRule) -> None:
        self.rule, self.done = rule, []  # type: ignore[var-annotated]

    def report(self, trial: int, prefix: Curve) -> bool:
        current = Trial(str(trial), {}, TrialStatus.RUNNING, prefix[-1], tuple(prefix))
        return bool(self.rule.should_stop(current, History((*self.done, current))))

    def finish(self, trial: int, prefix: Curve, stopped: bool) -> None:
        status = TrialStatus.STOPPED if stopped else TrialStatus.COMPLETED
        self.done.append(Trial(str(trial), {}, status, prefix[-1], tuple(prefix), float(trial)))


class Optuna(StopRule):
    def __init__(self, pruner: optuna.pruners.BasePruner) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.create_study(direction="minimize", pruner=pruner)
        self.trial: optuna.trial.Trial | None = None

    def begin(self, trial: int) -> None:
        self.study.enqueue_trial({"i": trial})
        self.trial = self.study.ask({"i": optuna.distributions.IntDistribution(0, 10**6)})

    def report(self, trial: int, prefix: Curve) -> bool:
        assert self.trial is not None
        self.trial.report(prefix[-1], len(prefix))
        return bool(self.trial.should_prune())

    def finish(self, trial: int, prefix: Curve, stopped: bool) -> None:
        state = optuna.trial.TrialState.PRUNED if stopped else optuna.trial.TrialState.COMPLETE
        self.study.tell(self.trial, prefix[-1] if not stopped else None, state=state)


def rules(rounds: int) -> dict[str, Callable[[int], StopRule]]:
    space = parse_parameter_ranges(
        {"ContinuousParameterRanges": [{"Name": "u", "MinValue": "0", "MaxValue": "1"}]}
    )
    first_rung = default_min_resource(rounds)
    return {
        "random": lambda seed: StopRule(),
        "tp-hyperband": lambda seed: Trainplane(HyperbandStrategy(space, max_resource=rounds, seed=seed)),
        "tp-hyperband-min1": lambda seed: Trainplane(
            HyperbandStrategy(space, max_resource=rounds, min_resource=1, seed=seed)
        ),
        "tp-auto": lambda seed: Trainplane(MedianStoppingRule()),
        "optuna-sha": lambda seed: Optuna(optuna.pruners.SuccessiveHalvingPruner()),
        f"optuna-sha-min{first_rung}-rf3": lambda seed: Optuna(
            optuna.pruners.SuccessiveHalvingPruner(min_resource=first_rung, reduction_factor=3)
        ),
        "optuna-median": lambda seed: Optuna(optuna.pruners.MedianPruner(n_startup_trials=3)),
    }


def replay(
    rule: StopRule, ordered: list[Curve], target: float, trials: int, budget: int
) -> tuple[int | None, int, float]:
    """(rounds until the target was first reached within ``budget``, rounds and best value of the first
    ``trials`` trials). Stops once both are known or the budget is spent."""
    spent, reached, best, at_trials = 0, None, float("inf"), (0, float("inf"))
    for i, curve in enumerate(ordered):
        if spent >= budget or (reached is not None and i >= trials):
            break
        rule.begin(i)
        stopped, epochs = False, len(curve)
        for epoch in range(1, len(curve) + 1):
            if epoch < len(curve) and rule.report(i, curve[:epoch]):
                stopped, epochs = True, epoch
                break
        spent += epochs
        final = curve[epochs - 1]
        if hasattr(rule, "finish"):
            rule.finish(i, curve[:epochs], stopped)  # type: ignore[attr-defined]
        best = min(best, final)
        if reached is None and final <= target and spent <= budget:
            reached = spent
        if i == trials - 1:
            at_trials = (spent, best)
    return reached, *at_trials


def evaluate(pool: list[Curve], trials: int, orders: int) -> dict[str, dict[str, float]]:
    rounds = len(pool[0])
    budget = trials * rounds
    table: dict[str, dict[str, list[float]]] = {}
    for seed in range(orders):
        ordered = [pool[i] for i in np.random.default_rng(seed).permutation(len(pool))]
        random_best = min(c[-1] for c in ordered[:trials])
        target = random_best + TOLERANCE * abs(random_best)
        baseline = replay(StopRule(), ordered, target, trials, budget)[0] or budget
        for name, make in rules(rounds).items():
            reached, spent, best = replay(make(seed), ordered, target, trials, budget)
            row = table.setdefault(name, {"rounds": [], "baseline": [], "miss": [], "total": [], "gap": []})
            row["rounds"].append(reached or budget)
            row["baseline"].append(baseline)
            row["miss"].append(0.0 if reached else 1.0)
            row["total"].append(1 - spent / budget)
            row["gap"].append((best - random_best) / abs(random_best) * 100)
    return {
        name: {
            "saved": 1 - sum(row["rounds"]) / sum(row["baseline"]),
            "miss": float(np.mean(row["miss"])),
            "total": float(np.mean(row["total"])),
            "gap": float(np.mean(row["gap"])),
            "worst": float(np.max(row["gap"])),
        }
        for name, row in table.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", type=int, default=60, help="random search's trials (its budget)")
    parser.add_argument("--pool", type=int, default=300, help="configurations a method may draw")
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=81)
    parser.add_argument("--pool-seed", type=int, default=0, help="another seed draws a held-out pool")
    args = parser.parse_args()
    configs = sample_configs(args.pool, seed=args.pool_seed)
    print(
        f"pool of {args.pool} configurations (seed {args.pool_seed}), random search {args.configs} trials "
        f"x {args.rounds} rounds, {args.orders} orders; tolerance {TOLERANCE:.0%}"
    )
    print(
        "| dataset | method | rounds saved to target | target missed | total rounds saved "
        "| final gap % (mean) | final gap % (worst) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for dataset in ("breast_cancer", "digits"):
        start = time.perf_counter()
        data = cached_curves(dataset, configs, args.rounds)
        for name, row in evaluate(data, args.configs, args.orders).items():
            print(
                f"| {dataset} | {name} | {row['saved']:.0%} | {row['miss']:.0%} | {row['total']:.0%} | "
                f"{row['gap']:+.2f} | {row['worst']:+.2f} |"
            )
        print(f"<!-- {dataset}: {time.perf_counter() - start:.0f} s -->")


if __name__ == "__main__":
    main()
