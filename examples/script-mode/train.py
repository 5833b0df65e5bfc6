"""A SageMaker-style training script: hyperparameters arrive as CLI arguments, paths as SM_* variables.

It fits a ridge regression on the CSV files of the ``train`` channel (label first, no header) and
prints a metric line that the job's MetricDefinitions pick up.
"""

import argparse
import glob
import os

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    args = parser.parse_args()

    data = np.vstack(
        [np.loadtxt(path, delimiter=",", ndmin=2) for path in sorted(glob.glob(f"{args.train}/*.csv"))]
    )
    labels, features = data[:, 0], data[:, 1:]
    features = np.column_stack([features, np.ones(len(features))])
    weights = np.linalg.solve(
        features.T @ features + args.alpha * np.eye(features.shape[1]), features.T @ labels
    )
    rmse = float(np.sqrt(np.mean((features @ weights - labels) ** 2)))
    print(f"train_rmse={rmse:.6f}")
    np.save(os.path.join(args.model_dir, "weights.npy"), weights)


if __name__ == "__main__":
    main()
