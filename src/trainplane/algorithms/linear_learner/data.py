"""Channels, label checks, normalisation statistics and example weights."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainplane.algorithms.formats import (
    CSV,
    PARQUET,
    RECORDIO_PROTOBUF,
    DataFormatError,
    Dataset,
    is_sparse,
    list_data_files,
    parse_content_type,
)
from trainplane.algorithms.formats import read_channel as _read_channel
from trainplane.algorithms.formats.pipe import fifo_path, is_pipe, read_pipe
from trainplane.algorithms.linear_learner.errors import ClientError
from trainplane.algorithms.linear_learner.hyperparameters import BINARY, MULTICLASS, Hyperparameters

CHANNELS = ("train", "validation", "test")
_CHECK_ROWS = 65_536  # rows per chunk when scanning for NaN/inf (bounds the temporary mask's size)


@dataclass(frozen=True)
class Scaler:
    """x_normalised = (x - shift) / scale; y_normalised = (y - label_shift) / label_scale."""

    shift: np.ndarray
    scale: np.ndarray
    label_shift: float = 0.0
    label_scale: float = 1.0


def read_channel(name: str, directory: Path, channel_config: dict[str, Any], epoch: int = 0) -> Dataset:
    """One channel: the files of ``directory``, or in Pipe mode the FIFO ``<channel>_<epoch>`` beside it.

    Formats: RecordIO-protobuf (the default) and CSV, in File or Pipe mode; Parquet (a trainplane
    extension) in File mode only.
    """
    content_type = channel_config.get("ContentType")
    piped = is_pipe(channel_config)
    try:
        fmt, _ = parse_content_type(content_type, RECORDIO_PROTOBUF)
        if fmt not in (CSV, RECORDIO_PROTOBUF) and (piped or fmt != PARQUET):
            raise DataFormatError(
                f"Content type {content_type} is not supported by Linear Learner"
                f"{' in Pipe mode' if piped else ''}; use text/csv or application/x-recordio-protobuf."
            )
        if piped:
            data = read_pipe(directory.parent, name, epoch, content_type, default_format=RECORDIO_PROTOBUF)
        else:
            data = _read_channel(directory, content_type, default_format=RECORDIO_PROTOBUF)
    except DataFormatError as exc:
        raise ClientError(f"Channel '{name}': {exc}") from None
    if data.num_rows == 0:
        where = fifo_path(directory.parent, name, epoch) if piped else directory
        raise ClientError(f"Channel '{name}' ({where}) contains no records.")
    _release_reader_memory()
    return data


def _release_reader_memory() -> None:
    """Hand Arrow's freed pages back to the OS: after a 1M-row CSV read mimalloc still holds ~300 MiB."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()


def _where(name: str, directory: Path) -> str:
    """``Channel 'train' (/opt/ml/input/data/train: a.csv, b.csv)``: the channel and its files."""
    if not directory.is_dir():  # Pipe mode: the data came through FIFOs beside it
        return f"Channel '{name}' ({directory}_<epoch> FIFO)"
    files = [str(path.relative_to(directory)) for path in list_data_files(directory)]
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return f"Channel '{name}' ({directory}: {shown})"


def check(name: str, directory: Path, data: Dataset, hp: Hyperparameters, feature_dim: int | None) -> None:
    """Reject data the predictor type cannot train on, naming the channel, its files, row and value."""
    where = _where(name, directory)
    if feature_dim is not None and data.num_features != feature_dim:
        raise ClientError(
            f"{where} has {data.num_features} features per record, expected feature_dim={feature_dim}."
        )
    if data.labels is None:
        raise ClientError(f"{where}: records have no label; Linear Learner needs labelled {name} data.")
    y = data.labels
    if hp.predictor_type == BINARY:
        bad = np.flatnonzero((y != 0) & (y != 1))
        rule = "0 or 1 for binary_classifier"
    elif hp.predictor_type == MULTICLASS:
        bad = np.flatnonzero(~((y >= 0) & (y < hp.num_classes) & (y == np.floor(y))))
        rule = f"an integer in [0, {hp.num_classes - 1}] for multiclass_classifier"
    else:
        bad = np.flatnonzero(~np.isfinite(y))
        rule = "a finite number for regressor"
    if len(bad):
        raise ClientError(
            f"{where}: label {float(y[bad[0]])!r} of record {bad[0]} is invalid; labels must be {rule} "
            f"({len(bad)} invalid labels)."
        )
    values = data.features.data if is_sparse(data.features) else data.features
    for start in range(0, values.shape[0], _CHECK_ROWS):
        chunk = values[start : start + _CHECK_ROWS]
        if not np.isfinite(chunk).all():
            row = (
                ""
                if is_sparse(data.features)
                else f" in record {start + int(np.argmin(np.isfinite(chunk).all(axis=1)))}"
            )
            raise ClientError(f"{where}: features contain NaN or infinite values{row}.")


def fit_scaler(data: Dataset, hp: Hyperparameters) -> Scaler:
    """Statistics from the first ``num_point_for_scaler`` rows (the input is expected to be shuffled)."""
    return scaler_from_moments(
        scaler_moments(data, hp, hp.num_point_for_scaler), hp, is_sparse(data.features)
    )


def scaler_moments(data: Dataset, hp: Hyperparameters, limit: int) -> np.ndarray:
    """Sums over the first ``limit`` rows, float64: ``[n, sum x (f), sum x^2 (f), sum y, sum y^2]``.

    Sums (not means) so that several hosts' moments add up (an all-reduce) to those of their union.
    """
    n = min(limit, data.num_rows)
    f = data.num_features
    moments = np.zeros(2 * f + 3, dtype=np.float64)
    moments[0] = n
    if hp.normalize_data and n:
        sample = data.features[:n]
        if is_sparse(sample):
            moments[1 : f + 1] = np.asarray(sample.sum(axis=0), dtype=np.float64).ravel()
            moments[f + 1 : 2 * f + 1] = np.asarray(
                sample.multiply(sample).sum(axis=0), dtype=np.float64
            ).ravel()
        else:
            for lo in range(0, n, _CHECK_ROWS):  # chunked: no float64 copy of the whole sample
                chunk = np.asarray(sample[lo : lo + _CHECK_ROWS], dtype=np.float64)
                moments[1 : f + 1] += chunk.sum(axis=0)
                moments[f + 1 : 2 * f + 1] += np.einsum("ij,ij->j", chunk, chunk)
    if data.labels is not None and n:
        y = data.labels[:n].astype(np.float64)
        moments[-2:] = y.sum(), y @ y
    return moments


def scaler_from_moments(moments: np.ndarray, hp: Hyperparameters, sparse: bool) -> Scaler:
    """The scaler of ``scaler_moments`` (possibly summed over hosts); std is the population std."""
    f = (len(moments) - 3) // 2
    n = max(float(moments[0]), 1.0)
    shift, scale = np.zeros(f, np.float32), np.ones(f, np.float32)
    if hp.normalize_data:
        mean = moments[1 : f + 1] / n
        std = np.sqrt(np.maximum(moments[f + 1 : 2 * f + 1] / n - mean * mean, 0))
        # Sparse data is only scaled unless unbias_data=true: shifting would make every row dense.
        unbias = hp.unbias_data if hp.unbias_data is not None else not sparse
        if unbias:
            shift = mean.astype(np.float32)
        scale = np.where(std > 1e-12, std, 1.0).astype(np.float32)
    label_shift, label_scale = 0.0, 1.0
    if hp.normalize_label or hp.unbias_label:
        y_mean = moments[-2] / n
        y_std = float(np.sqrt(max(moments[-1] / n - y_mean * y_mean, 0.0)))
        if hp.unbias_label:
            label_shift = float(y_mean)
        if hp.normalize_label and y_std > 1e-12:
            label_scale = y_std
    return Scaler(shift, scale, label_shift, label_scale)


def example_weights(data: Dataset, hp: Hyperparameters) -> np.ndarray | None:
    """Per-example loss weights, or None when every weight is 1."""
    y = np.asarray(data.labels)
    weights = None if data.weights is None else data.weights.astype(np.float32)
    if hp.predictor_type == BINARY:
        mult = hp.positive_example_weight_mult
        if mult == "balanced":
            positives = float((y == 1).sum())
            mult = (len(y) - positives) / positives if positives else 1.0
        elif mult == "auto":
            mult = 1.0  # the decision threshold is calibrated afterwards, which handles imbalance
        if float(mult) != 1.0:
            w = np.where(y == 1, np.float32(mult), np.float32(1.0))
            weights = w if weights is None else weights * w
    elif hp.predictor_type == MULTICLASS and hp.balance_multiclass_weights:
        counts = np.bincount(y.astype(np.int64), minlength=hp.num_classes).astype(np.float64)
        per_class = np.where(counts > 0, len(y) / (hp.num_classes * np.maximum(counts, 1)), 0.0)
        w = per_class[y.astype(np.int64)].astype(np.float32)
        weights = w if weights is None else weights * w
    return weights
