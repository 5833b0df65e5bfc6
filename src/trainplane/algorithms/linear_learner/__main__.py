"""``python -m trainplane.algorithms.linear_learner``: one training job under ``TRAINPLANE_ML_ROOT``."""

import os
import sys

from trainplane.algorithms.linear_learner.job import main

if __name__ == "__main__":
    code = main(os.environ)
    # The model, the failure file and every output line are written by now. Interpreter teardown with
    # torch loaded takes ~0.3 s (finalising torch's modules), added to every job's run time: skip it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
