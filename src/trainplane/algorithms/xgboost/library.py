"""XGBoost, imported without scikit-learn: importing this module does it.

XGBoost's ``compat`` module imports scikit-learn (and with it scipy.stats) only for the scikit-learn
style estimators, which the built-in does not use. That is about 0.9 s of every host's start (1.4 s on
a slow spell). scikit-learn stays importable afterwards: custom metrics use it. The built-in's ``main``
imports this first, and so does a spare agent's pre-loaded interpreter (``BuiltinAlgorithm.preload``),
so that a pre-loaded host has the same modules as a fresh one.
"""

from __future__ import annotations

import sys


def import_xgboost_without_sklearn() -> None:
    """Import ``xgboost`` with ``import sklearn`` failing meanwhile; nothing if either is loaded."""
    if "xgboost" in sys.modules or "sklearn" in sys.modules:
        return
    sys.modules["sklearn"] = None  # type: ignore[assignment]  # makes ``import sklearn`` fail
    try:
        import xgboost  # noqa: F401
    finally:
        del sys.modules["sklearn"]


import_xgboost_without_sklearn()
