"""``python -m trainplane.algorithms.linear_learner``: one training job under ``TRAINPLANE_ML_ROOT``."""

import os
import sys

from trainplane.algorithms.linear_learner.job import main

if __name__ == "__main__":
    sys.exit(main(os.environ))
