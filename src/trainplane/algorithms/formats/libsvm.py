"""LIBSVM channels: ``label[:weight] index:value ...`` per line, zero-based feature indices.

The result is a float32 CSR matrix whose width is the largest index seen plus one; callers that pair a
training and a validation set widen the narrower one (a validation file may simply never mention the
last features). ``qid:<n>`` tokens are accepted and ignored: :class:`Dataset` has no query groups yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from trainplane.algorithms.formats import DataFormatError, Dataset


@dataclass
class _Columns:
    """Growing CSR buffers shared by every file of a channel."""

    labels: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    has_weight: bool = False
    indptr: list[int] = field(default_factory=lambda: [0])
    indices: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


def _parse_label(token: str, where: str, out: _Columns) -> None:
    label, sep, weight = token.partition(":")
    try:
        out.labels.append(float(label))
        out.weights.append(float(weight) if sep else 1.0)
    except ValueError:
        raise DataFormatError(f"{where}: invalid label '{token}'.") from None
    out.has_weight = out.has_weight or bool(sep)


def _parse_feature(token: str, where: str, out: _Columns) -> None:
    index, sep, value = token.partition(":")
    if index == "qid":
        return
    try:
        column = int(index)
        number = float(value)
    except ValueError:
        raise DataFormatError(f"{where}: invalid feature '{token}' (expected index:value).") from None
    if not sep or column < 0:
        raise DataFormatError(f"{where}: invalid feature '{token}' (expected index:value, index >= 0).")
    out.indices.append(column)
    out.values.append(number)


def _parse_file(path: Path, out: _Columns) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"Could not read LIBSVM file {path}: {exc}") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        where = f"LIBSVM file {path}, line {number}"
        _parse_label(tokens[0], where, out)
        for token in tokens[1:]:
            _parse_feature(token, where, out)
        out.indptr.append(len(out.indices))


def read_libsvm_files(files: Sequence[Path], params: Mapping[str, str]) -> Dataset:
    """Read LIBSVM files into one Dataset with a float32 CSR feature matrix."""
    columns = _Columns()
    for path in files:
        _parse_file(path, columns)
    if not columns.labels:
        raise DataFormatError(f"No rows found in LIBSVM data ({', '.join(map(str, files))}).")
    indices = np.asarray(columns.indices, dtype=np.int32)
    width = int(indices.max()) + 1 if indices.size else 0
    features = sp.csr_matrix(
        (np.asarray(columns.values, dtype=np.float32), indices, np.asarray(columns.indptr, dtype=np.int64)),
        shape=(len(columns.labels), width),
    )
    weights = np.asarray(columns.weights, dtype=np.float32) if columns.has_weight else None
    return Dataset(features=features, labels=np.asarray(columns.labels, dtype=np.float32), weights=weights)
