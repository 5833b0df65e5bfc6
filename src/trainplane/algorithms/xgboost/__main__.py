"""``python -m trainplane.algorithms.xgboost``: run the job under TRAINPLANE_ML_ROOT."""

from __future__ import annotations

import sys

from trainplane.algorithms.xgboost import main

if __name__ == "__main__":
    sys.exit(main())
