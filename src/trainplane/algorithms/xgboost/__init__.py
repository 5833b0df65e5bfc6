"""SageMaker's built-in XGBoost (algorithm mode), run in-process instead of in a container.

``python -m trainplane.algorithms.xgboost`` reads the /opt/ml-shaped root named by
``TRAINPLANE_ML_ROOT``, trains, and writes ``model/xgboost-model`` (XGBoost native format) or
``output/failure`` (``ClientError: ...`` / ``AlgorithmError: ...``) and exits 1.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping

from trainplane.algorithms.xgboost.errors import AlgorithmError, UserError, failure_reason
from trainplane.algorithms.xgboost.metrics import metric_definitions, metric_direction

__all__ = ["AlgorithmError", "UserError", "main", "metric_definitions", "metric_direction"]


def _write_failure(environ: Mapping[str, str], reason: str) -> None:
    from trainplane.runtime.paths import MLPaths

    failure = MLPaths.from_environ(environ).failure_file
    try:
        failure.parent.mkdir(parents=True, exist_ok=True)
        failure.write_text(reason, encoding="utf-8")
    except OSError as exc:  # the reason still reaches stderr below
        print(f"Could not write {failure}: {exc}", file=sys.stderr)


def main(environ: Mapping[str, str] | None = None) -> int:
    """Run the job; 0 on success, 1 after writing ``output/failure``."""
    from trainplane.algorithms.xgboost import library  # noqa: F401  # first: xgboost without sklearn

    # isort: split
    from trainplane.algorithms.xgboost import distributed
    from trainplane.algorithms.xgboost.contract import load_contract
    from trainplane.algorithms.xgboost.train import run

    environ = os.environ if environ is None else environ
    try:
        distributed.run(load_contract(environ), environ, run)
    except (UserError, AlgorithmError) as exc:
        reason = failure_reason(exc)
    except Exception as exc:  # anything unexpected is the algorithm's fault, reported the same way
        traceback.print_exc()
        reason = failure_reason(exc)
    else:
        return 0
    print(reason, file=sys.stderr, flush=True)
    _write_failure(environ, reason)
    return 1
