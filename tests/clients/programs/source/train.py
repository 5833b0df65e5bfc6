"""A script-mode training script: logistic regression on the "train" channel's CSV (label first).

It runs with the Python of the machine running the job, so it imports only numpy and scikit-learn.
"""

import glob
import os
import pickle

import numpy as np
from sklearn.linear_model import LogisticRegression

channel = os.environ["SM_CHANNEL_TRAIN"]
data = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in sorted(glob.glob(f"{channel}/*.csv"))])
labels, features = data[:, 0], data[:, 1:]
features = (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-9)
model = LogisticRegression(max_iter=200).fit(features, labels)
print(f"train-accuracy: {model.score(features, labels):.4f}", flush=True)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.pkl"), "wb") as handle:
    pickle.dump(model, handle)
