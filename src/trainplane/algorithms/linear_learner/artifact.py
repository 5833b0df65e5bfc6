"""The trained model on disk (``model/model_algo-1``) and :func:`load_model` (format: package docstring)."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trainplane.algorithms.formats import is_sparse
from trainplane.algorithms.linear_learner.data import Scaler
from trainplane.algorithms.linear_learner.hyperparameters import BINARY, MULTICLASS

MODEL_FILE = "model_algo-1"
FORMAT_VERSION = 1
_CHUNK = 65_536


@dataclass
class LinearLearnerModel:
    """One selected linear model with the preprocessing it was trained under."""

    predictor_type: str
    loss: str
    weights: np.ndarray  # [features, outputs], in normalised feature space
    bias: np.ndarray  # [outputs]
    scaler: Scaler
    threshold: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_features(self) -> int:
        return int(self.weights.shape[0])

    def raw_scores(self, x: Any) -> np.ndarray:
        """Linear scores ``[rows, outputs]`` in training label space."""
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"expected {self.num_features} features per row, got shape {x.shape}")
        inv = (1.0 / self.scaler.scale).astype(np.float32)
        w = self.weights * inv[:, None]  # fold the scaling into the weights: no normalised copy of x
        b = self.bias - self.scaler.shift @ w
        out = np.empty((x.shape[0], self.weights.shape[1]), dtype=np.float32)
        for lo in range(0, x.shape[0], _CHUNK):
            chunk = x[lo : lo + _CHUNK]
            prod = chunk @ w if is_sparse(chunk) else np.asarray(chunk, dtype=np.float32) @ w
            out[lo : lo + _CHUNK] = np.asarray(prod) + b
        return out

    def predict(self, x: Any) -> dict[str, np.ndarray]:
        """``score`` (probability for logistic/softmax, margin for hinge, value for regression) and
        ``predicted_label`` for classifiers."""
        s = self.raw_scores(x)
        if self.predictor_type == BINARY:
            logistic = self.loss == "logistic"  # the sigmoid below, computed without overflow
            score = np.exp(-np.logaddexp(0.0, -s[:, 0])) if logistic else s[:, 0]
            return {"score": score, "predicted_label": (score > self.threshold).astype(np.float32)}
        if self.predictor_type == MULTICLASS:
            e = np.exp(s - s.max(axis=1, keepdims=True))
            prob = e / e.sum(axis=1, keepdims=True)
            return {"score": prob, "predicted_label": prob.argmax(axis=1).astype(np.float32)}
        return {"score": s[:, 0] * self.scaler.label_scale + self.scaler.label_shift}

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "format_version": FORMAT_VERSION,
            "predictor_type": self.predictor_type,
            "loss": self.loss,
            "threshold": self.threshold,
            "label_shift": self.scaler.label_shift,
            "label_scale": self.scaler.label_scale,
            **self.meta,
        }
        path = directory / MODEL_FILE
        with open(path, "wb") as out:  # a file object, so numpy does not append ".npz"
            np.savez(
                out,
                weights=self.weights,
                bias=self.bias,
                feature_shift=self.scaler.shift,
                feature_scale=self.scaler.scale,
                meta=np.asarray(json.dumps(meta, sort_keys=True)),
            )
        return path


def _from_bytes(raw: bytes) -> LinearLearnerModel:
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        scaler = Scaler(
            z["feature_shift"],
            z["feature_scale"],
            float(meta.pop("label_shift")),
            float(meta.pop("label_scale")),
        )
        return LinearLearnerModel(
            meta.pop("predictor_type"),
            meta.pop("loss"),
            z["weights"],
            z["bias"],
            scaler,
            float(meta.pop("threshold")),
            meta,
        )


def load_model(path: str | Path) -> LinearLearnerModel:
    """Load from ``model.tar.gz``, the ``model/`` directory, or the ``model_algo-1`` file itself."""
    path = Path(path)
    if path.is_dir():
        return _from_bytes((path / MODEL_FILE).read_bytes())
    if tarfile.is_tarfile(path):
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                if member.isfile() and Path(member.name).name.startswith("model_"):
                    handle = tar.extractfile(member)
                    if handle is not None:
                        return _from_bytes(handle.read())
        raise ValueError(f"{path} holds no model_algo-1 file")
    return _from_bytes(path.read_bytes())
