"""Built-in XGBoost through trainplane vs. ``xgboost.train`` called directly, on the same CSV.

    .venv/bin/python benchmarks/xgboost_vs_native.py [--rows 1000000] [--features 20] [--rounds 50]
        [--repeats 3] [--max-depth 6] [--nthread 2] [--keep-data]

Data: a seeded binary-classification CSV (label first, no header, float32 values) written to
``benchmarks/.work/`` and deleted at the end unless ``--keep-data``.

Both sides get the exact booster parameters the built-in job derives from its hyperparameters
(``objective=binary:logistic, tree_method=hist, max_depth, nthread, num_round``, evaluated on the train
set every round as the built-in does), and both are timed as a user sees them:

* trainplane: ``create_training_job`` → ``wait_for_training_job`` returns Completed (20 ms poll). The job
  (``TrainPlane`` with a home under ``benchmarks/.work/``) stages the ``file://`` channel, runs
  ``python -m trainplane.algorithms.xgboost`` and packages ``model.tar.gz``.
* native: a fresh ``python`` process (start to exit) that imports xgboost, loads the CSV, trains and
  saves the model: what ``python train.py`` costs a careful user. Two loaders are tried first (pyarrow's
  multithreaded CSV reader into a float32 matrix, and XGBoost's own ``file.csv?format=csv&label_column=0``
  URI); the faster is used for the comparison.

The two are alternated (trainplane first on even repetitions, native first on odd ones) and the table
reports the median of each and of the per-repetition ratio trainplane / native. Goal: ratio <= 1.05.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import WORK, machine_line, median, table, xgboost_request

GOAL_RATIO = 1.05
LOADERS = ("pyarrow", "xgboost-uri")


# --------------------------------------------------------------------------------------------- data
def write_csv(path: Path, rows: int, features: int, seed: int = 0) -> None:
    """Label (0/1) first, then ``features`` float32 columns; no header. Written in 100k-row blocks."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    weights = rng.standard_normal(features).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = ["label", *(f"f{i}" for i in range(features))]
    schema = pa.schema([(name, pa.float32()) for name in names])
    options = pacsv.WriteOptions(include_header=False)
    with pacsv.CSVWriter(str(path), schema, write_options=options) as writer:
        for start in range(0, rows, 100_000):
            block = min(100_000, rows - start)
            x = rng.standard_normal((block, features), dtype=np.float32)
            noise = rng.standard_normal(block).astype(np.float32)
            label = ((x @ weights + noise) > 0).astype(np.float32)
            columns = [pa.array(label), *(pa.array(x[:, i]) for i in range(features))]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))


def booster_params(hyperparameters: dict[str, str], nthread: int) -> tuple[dict[str, Any], int]:
    """What the built-in job hands ``xgboost.train``: its own validation and defaults, reused here."""
    from trainplane.algorithms.xgboost.hyperparameters import validate
    from trainplane.algorithms.xgboost.settings import build_settings

    settings = build_settings(validate(hyperparameters), nthread)
    return settings.params, settings.num_round


# ------------------------------------------------------------------------------------ native worker
def _load(path: Path, loader: str, nthread: int) -> Any:
    import xgboost as xgb

    if loader == "xgboost-uri":
        return xgb.DMatrix(f"{path}?format=csv&label_column=0", nthread=nthread)
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with path.open("rb") as handle:
        width = handle.readline().count(b",") + 1
    names = [f"c{i}" for i in range(width)]
    table_ = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.float32())),
    )
    features = np.empty((table_.num_rows, width - 1), dtype=np.float32)
    for i in range(1, width):
        features[:, i - 1] = table_.column(i).to_numpy()
    label = table_.column(0).to_numpy()
    return xgb.DMatrix(features, label=label, nthread=nthread)


def native_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs in its own process: import, load, train, save; returns ``time.time()`` stamps of each step."""
    started = time.time()
    import xgboost as xgb

    imported = time.time()
    dtrain = _load(Path(spec["csv"]), spec["loader"], int(spec["params"]["nthread"]))
    loaded = time.time()
    if spec.get("load_only"):
        return {"load": loaded - imported}
    history: dict[str, Any] = {}
    booster = xgb.train(
        spec["params"],
        dtrain,
        num_boost_round=spec["rounds"],
        evals=[(dtrain, "train")],
        evals_result=history,
        verbose_eval=False,
    )
    trained = time.time()
    booster.save_model(spec["model"])
    metric = next(iter(history["train"].items()))
    return {
        "started": started,
        "imported": imported,
        "loaded": loaded,
        "trained": trained,
        "saved": time.time(),
        "metric": f"train:{metric[0]}={metric[1][-1]:.5f}",
    }


def run_native(spec: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """Wall time of a fresh ``python`` running the worker, and its phases (seconds)."""
    launch = time.time()
    done = subprocess.run(
        [sys.executable, __file__, "--native-worker", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    end = time.time()
    stamps = json.loads(done.stdout.strip().splitlines()[-1])
    if spec.get("load_only"):
        return end - launch, stamps
    return end - launch, {
        "before": 0.0,
        "start+import+load": stamps["loaded"] - launch,
        "train": stamps["trained"] - stamps["loaded"],
        "save+exit": end - stamps["trained"],
        "after": 0.0,
        "metric": stamps["metric"],
    }


# --------------------------------------------------------------------------------------- trainplane
def _log_stamps(output_log: Path) -> tuple[float, float]:
    """When the algorithm reported its data loaded (``train: N rows``) and its last round's metrics."""
    loaded = last_round = float("nan")
    for line in output_log.read_text().splitlines():
        stamp, _, text = line.partition("\t")
        if text.startswith("train: ") and "rows x" in text:
            loaded = float(stamp)
        elif text.startswith("["):
            last_round = float(stamp)
    return loaded, last_round


def run_trainplane(tp: Any, request: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """Wall time submit → observed Completed, and its phases (from the agent's files, seconds)."""
    name = request["TrainingJobName"]
    start = time.time()
    tp.create_training_job(**request)
    description = tp.wait_for_training_job(name, timeout=3600, poll=0.02)
    end = time.time()
    if description["TrainingJobStatus"] != "Completed":
        raise RuntimeError(f"{name}: {description['TrainingJobStatus']}: {description.get('FailureReason')}")
    agent_dir = Path(tp.platform.store.attempts(name)[-1].hosts[0]["agent_dir"])
    events = {
        e["event"]: e["time"] for e in map(json.loads, (agent_dir / "events.jsonl").read_text().splitlines())
    }
    exit_time = json.loads((agent_dir / "result.json").read_text())["time"]
    loaded, last_round = _log_stamps(agent_dir / "output.log")
    metric = next(iter(description.get("FinalMetricDataList", [])), None)
    return end - start, {
        "before": events["Training"] - start,
        "start+import+load": loaded - events["Training"],
        "train": last_round - loaded,
        "save+exit": exit_time - last_round,
        "after": end - exit_time,
        "metric": f"{metric['MetricName']}={metric['Value']:.5f}" if metric else "-",
    }


# ------------------------------------------------------------------------------------------- driver
def _s(seconds: float) -> str:
    return f"{seconds:.2f}"


def choose_loader(csv: Path, params: dict[str, Any]) -> tuple[str, dict[str, float]]:
    """One load-only run per loader (after a cache-warming read of the file); the faster wins."""
    csv.read_bytes()
    loads: dict[str, float] = {}
    for loader in LOADERS:
        _, times = run_native({"csv": str(csv), "loader": loader, "params": params, "load_only": True})
        loads[loader] = times["load"]
    return min(loads, key=lambda k: loads[k]), loads


def compare(args: argparse.Namespace, root: Path) -> None:
    from trainplane import TrainPlane

    csv = root / "data" / "train" / "train.csv"
    started = time.perf_counter()
    write_csv(csv, args.rows, args.features)
    size = csv.stat().st_size / 1e6
    elapsed = time.perf_counter() - started
    print(
        f"data: {csv.relative_to(root)} ({args.rows} rows x {args.features} features, {size:.0f} MB), "
        f"written in {elapsed:.1f} s"
    )
    hyperparameters = {
        "objective": "binary:logistic",
        "num_round": str(args.rounds),
        "max_depth": str(args.max_depth),
        "tree_method": "hist",
        "nthread": str(args.nthread),
    }
    params, rounds = booster_params(hyperparameters, args.nthread)
    print(f"booster params (the built-in's own validation and defaults): {params}, num_boost_round={rounds}")
    loader, loads = choose_loader(csv, params)
    print("native CSV load + DMatrix, one run each: " + ", ".join(f"{k} {v:.2f} s" for k, v in loads.items()))
    print(f"native side uses the faster: {loader}\n")
    spec = {
        "csv": str(csv),
        "loader": loader,
        "params": params,
        "rounds": rounds,
        "model": str(root / "model"),
    }
    runs: list[tuple[str, float, dict[str, Any], float, dict[str, Any]]] = []
    with TrainPlane(home=root / "home") as tp:
        for rep in range(args.repeats):
            name = f"xgb-bench-{rep}"
            request = xgboost_request(name, f"file://{csv.parent}/", f"file://{root}/output", hyperparameters)
            order = ("trainplane", "native") if rep % 2 == 0 else ("native", "trainplane")
            results = {
                side: run_trainplane(tp, request) if side == "trainplane" else run_native(spec)
                for side in order
            }
            runs.append((order[0], *results["trainplane"], *results["native"]))
    print(repetitions_table(runs))
    print("\nMedian seconds per phase (trainplane's from its agent's events and time-stamped log lines):\n")
    print(phases_table(runs))
    ratio = median([tp_wall / native_wall for _, tp_wall, _, native_wall, _ in runs])
    verdict = "met" if ratio <= GOAL_RATIO else "missed"
    print()
    walls = [_s(median([r[1] for r in runs])), _s(median([r[3] for r in runs]))]
    headers = ["median trainplane s", "median native s", "median ratio", "goal", "verdict"]
    print(table(headers, [[*walls, f"{ratio:.3f}", f"<= {GOAL_RATIO}", verdict]]))


PHASES = (
    ("before", "platform before the algorithm (submit → Training event: API, launch, agent, staging)"),
    ("start+import+load", "interpreter start, imports, CSV load + DMatrix"),
    ("train", "xgboost.train (sketch + rounds + train-set eval)"),
    ("save+exit", "save model, interpreter exit (trainplane: + agent reaps)"),
    ("after", "platform after the algorithm (notice exit, model.tar.gz, status, client poll)"),
)


def repetitions_table(runs: list[tuple[str, float, dict[str, Any], float, dict[str, Any]]]) -> str:
    rows = []
    for rep, (first, tp_wall, tp, native_wall, native) in enumerate(runs):
        rows.append([
            str(rep), first, _s(tp_wall), _s(native_wall), f"{tp_wall / native_wall:.3f}",
            f"{tp['metric']} / {native['metric']}",
        ])  # fmt: skip
    return table(
        ["rep", "first", "trainplane s", "native s", "ratio", "final metric trainplane / native"], rows
    )


def phases_table(runs: list[tuple[str, float, dict[str, Any], float, dict[str, Any]]]) -> str:
    rows = []
    for key, label in PHASES:
        tp = median([r[2][key] for r in runs])
        native = median([r[4][key] for r in runs])
        rows.append([label, _s(tp), _s(native), f"{tp - native:+.2f}"])
    return table(["phase", "trainplane s", "native s", "difference s"], rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-depth", type=int, default=6)
    parser.add_argument("--nthread", type=int, default=2)
    parser.add_argument("--keep-data", action="store_true", help="leave benchmarks/.work/xgboost_vs_native")
    parser.add_argument("--native-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.native_worker:
        print(json.dumps(native_worker(json.loads(args.native_worker))))
        return 0
    print(f"xgboost_vs_native: built-in XGBoost job vs xgboost.train, {args.repeats} alternating repetitions")
    print(machine_line())
    root = WORK / "xgboost_vs_native"
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    try:
        compare(args, root)
    finally:
        if not args.keep_data:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
