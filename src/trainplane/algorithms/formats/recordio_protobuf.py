"""RecordIO-protobuf: SageMaker ``Record`` messages in MXNet RecordIO framing.

Framing (dmlc ``RecordIOWriter``): each record is ``uint32 magic 0xced7230a`` (little-endian), ``uint32``
whose upper 3 bits are a continuation flag (0 whole record; 1/2/3 first/middle/last part of a record that
was split where its payload contained the magic word) and lower 29 bits the payload length, the payload,
then zero padding to a 4-byte boundary. Split records are rejoined with the magic word between parts.

Features come from the ``values`` feature tensor: dense when it has no ``keys``, sparse otherwise, with
``shape[0]`` as the feature dimension. The label is the first value of the ``values`` label tensor.

Speed: files written by the SageMaker SDK (or by :func:`write_recordio_protobuf`) hold dense records
that are byte-identical apart from the floats, so the reader checks that once with numpy and then slices
all floats out of a ``[records, stride]`` byte matrix. Anything else goes through the general decoder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from trainplane.algorithms.formats import DataFormatError, Dataset
from trainplane.algorithms.formats._protobuf import (
    ProtobufError,
    decode_record,
    encode_float32_tensor,
    encode_map_entry,
)

MAGIC = 0xCED7230A
_MAGIC_BYTES = MAGIC.to_bytes(4, "little")
_LENGTH_MASK = (1 << 29) - 1

__all__ = [
    "MAGIC",
    "read_recordio_protobuf_bytes",
    "read_recordio_protobuf_files",
    "write_recordio_protobuf",
]


def _pad(length: int) -> int:
    return (length + 3) & ~3


def iter_records(buf: bytes, name: str = "<buffer>") -> Iterator[bytes]:
    """Yield each record payload of a RecordIO buffer, rejoining split records."""
    pos, parts = 0, []
    while pos < len(buf):
        if pos + 8 > len(buf):
            raise DataFormatError(f"{name}: truncated RecordIO header at byte {pos}")
        magic = int.from_bytes(buf[pos : pos + 4], "little")
        word = int.from_bytes(buf[pos + 4 : pos + 8], "little")
        if magic != MAGIC:
            raise DataFormatError(f"{name}: not RecordIO (bad magic 0x{magic:08x} at byte {pos})")
        flag, length = word >> 29, word & _LENGTH_MASK
        start = pos + 8
        if start + length > len(buf):
            raise DataFormatError(f"{name}: RecordIO record at byte {pos} runs past the end of the file")
        payload = buf[start : start + length]
        pos = start + _pad(length)
        if flag == 0:
            yield payload
        elif flag == 1:
            parts = [payload]
        elif flag == 2:
            parts.append(payload)
        else:
            parts.append(payload)
            yield _MAGIC_BYTES.join(parts)
            parts = []


def _dense_heads(dim: int, with_label: bool) -> tuple[bytes, bytes]:
    """Bytes before the feature floats and between them and the label float, for our layout."""
    features = encode_map_entry(1, "values", encode_float32_tensor(np.zeros(dim, np.float32)))
    label = (
        encode_map_entry(2, "values", encode_float32_tensor(np.zeros(1, np.float32))) if with_label else b""
    )
    return features[: len(features) - 4 * dim], label[: len(label) - 4]


def _read_fast_dense(buf: bytes) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The vectorised path for uniform dense records; None when the file is not laid out that way."""
    if len(buf) < 8 or int.from_bytes(buf[:4], "little") != MAGIC:
        return None
    word = int.from_bytes(buf[4:8], "little")
    if word >> 29:
        return None
    length = word & _LENGTH_MASK
    stride = 8 + _pad(length)
    if len(buf) % stride:
        return None
    try:
        features, labels = decode_record(buf, 8, 8 + length)
    except ProtobufError:
        return None
    tensor = features.get("values")
    if tensor is None or tensor.keys is not None or tensor.values.dtype != np.float32 or len(features) != 1:
        return None
    dim, with_label = len(tensor.values), bool(labels)
    head, label_head = _dense_heads(dim, with_label)
    if 8 + len(head) + 4 * dim + (len(label_head) + 4 if with_label else 0) != 8 + length:
        return None
    rows = np.frombuffer(buf, dtype=np.uint8).reshape(-1, stride)
    template = np.frombuffer(buf, dtype=np.uint8, count=stride)
    fixed = np.ones(stride, dtype=bool)
    f0 = 8 + len(head)
    fixed[f0 : f0 + 4 * dim] = False
    l0 = f0 + 4 * dim + len(label_head)
    if with_label:
        fixed[l0 : l0 + 4] = False
    if not np.array_equal(
        rows[:, fixed], np.broadcast_to(template[fixed], (rows.shape[0], int(fixed.sum())))
    ):
        return None
    if rows[0, 8:f0].tobytes() != head or rows[0, f0 + 4 * dim : l0].tobytes() != label_head:
        return None
    x = np.ascontiguousarray(rows[:, f0 : f0 + 4 * dim]).view("<f4").astype(np.float32, copy=False)
    y = rows[:, l0 : l0 + 4].copy().view("<f4").ravel().astype(np.float32) if with_label else None
    return x, y


def _read_general(buf: bytes, name: str) -> tuple[Any, np.ndarray | None]:
    dense_rows: list[np.ndarray] = []
    indices: list[np.ndarray] = []
    labels: list[float] = []
    sparse, dim = False, -1
    for i, payload in enumerate(iter_records(buf, name)):
        try:
            features, label = decode_record(payload)
        except ProtobufError as exc:
            raise DataFormatError(f"{name}: record {i} is not a valid Record protobuf ({exc})") from None
        tensor = features.get("values")
        if tensor is None:
            raise DataFormatError(f"{name}: record {i} has no 'values' feature tensor")
        values = tensor.values.astype(np.float32, copy=False)
        keys = tensor.keys
        if keys is None and not len(values) and tensor.shape and int(np.prod(tensor.shape)):
            keys = np.zeros(0, np.int64)  # a sparse all-zero row: protobuf omits the empty keys field
        if keys is not None:
            sparse = True
            if len(keys) != len(values):
                raise DataFormatError(f"{name}: record {i} has {len(keys)} keys for {len(values)} values")
            row_dim = tensor.shape[-1] if tensor.shape else int(keys.max(initial=-1)) + 1
            indices.append(keys)
        else:
            row_dim = len(values)
            indices.append(np.arange(row_dim))
        if tensor.shape is not None and keys is None and int(np.prod(tensor.shape)) != len(values):
            raise DataFormatError(f"{name}: record {i} has shape {tensor.shape} but {len(values)} values")
        if dim >= 0 and row_dim != dim and not (sparse and tensor.shape is None):
            raise DataFormatError(
                f"{name}: record {i} has feature dimension {row_dim}, earlier records {dim}"
            )
        dim = max(dim, row_dim)
        dense_rows.append(values)
        if label.get("values") is not None and len(label["values"].values):
            labels.append(float(label["values"].values[0]))
    if len(labels) not in (0, len(dense_rows)):
        raise DataFormatError(f"{name}: {len(dense_rows) - len(labels)} records have no label")
    y = np.asarray(labels, dtype=np.float32) if labels else None
    if not sparse:
        return (np.stack(dense_rows) if dense_rows else np.zeros((0, 0), np.float32)), y
    indptr = np.zeros(len(dense_rows) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in dense_rows], out=indptr[1:])
    idx = np.concatenate(indices) if indices else np.zeros(0, np.int64)
    if len(idx) and (idx.min() < 0 or idx.max() >= dim):
        raise DataFormatError(f"{name}: a sparse key is outside the feature dimension {dim}")
    data = np.concatenate(dense_rows) if dense_rows else np.zeros(0, np.float32)
    return sp.csr_matrix((data, idx, indptr), shape=(len(dense_rows), dim)), y


def read_recordio_protobuf_file(path: Path) -> tuple[Any, np.ndarray | None]:
    """Features (dense array or CSR) and labels (or None) of one file."""
    return read_recordio_protobuf_bytes(Path(path).read_bytes(), str(path))


def read_recordio_protobuf_bytes(buf: bytes, name: str) -> tuple[Any, np.ndarray | None]:
    """Features and labels of a RecordIO-protobuf buffer (a file's or a Pipe-mode stream's bytes)."""
    fast = _read_fast_dense(buf)
    return fast if fast is not None else _read_general(buf, name)


def read_recordio_protobuf_files(files: list[Path], params: dict[str, str]) -> Dataset:
    """Read and concatenate RecordIO-protobuf files; every file must agree on the feature dimension."""
    parts: list[tuple[Any, np.ndarray | None]] = []
    for path in files:
        x, y = read_recordio_protobuf_file(path)
        if x.shape[0] == 0:
            continue
        if parts and x.shape[1] != parts[0][0].shape[1]:
            raise DataFormatError(
                f"{path}: feature dimension {x.shape[1]} differs from {parts[0][0].shape[1]} in {files[0]}"
            )
        if parts and (y is None) != (parts[0][1] is None):
            raise DataFormatError(f"{path}: some files have labels and some do not")
        parts.append((x, y))
    if not parts:
        raise DataFormatError(f"No records found in {', '.join(str(f) for f in files)}")
    xs = [x for x, _ in parts]
    if any(sp.issparse(x) for x in xs):
        features: Any = sp.vstack([sp.csr_matrix(x) for x in xs], format="csr", dtype=np.float32)
    else:
        features = xs[0] if len(xs) == 1 else np.concatenate(xs)
    labels = None if parts[0][1] is None else np.concatenate([y for _, y in parts if y is not None])
    return Dataset(features=features, labels=labels)


def _frame(payload: bytes) -> bytes:
    return (
        _MAGIC_BYTES
        + len(payload).to_bytes(4, "little")
        + payload
        + b"\0" * (_pad(len(payload)) - len(payload))
    )


def write_recordio_protobuf(path: str | Path, features: Any, labels: np.ndarray | None = None) -> None:
    """Write one record per row: dense numpy rows, or scipy sparse rows with keys and shape."""
    n = features.shape[0]
    y = None if labels is None else np.asarray(labels, dtype="<f4").reshape(-1)
    if y is not None and len(y) != n:
        raise ValueError(f"{n} feature rows but {len(y)} labels")
    with open(path, "wb") as out:
        if sp.issparse(features):
            csr = sp.csr_matrix(features)
            for i in range(n):
                lo, hi = csr.indptr[i], csr.indptr[i + 1]
                body = encode_float32_tensor(csr.data[lo:hi], csr.indices[lo:hi], (csr.shape[1],))
                payload = encode_map_entry(1, "values", body)
                if y is not None:
                    payload += encode_map_entry(2, "values", encode_float32_tensor(y[i : i + 1]))
                out.write(_frame(payload))
            return
        x = np.ascontiguousarray(features, dtype="<f4")
        if x.ndim != 2:
            raise ValueError("dense features must be a 2-D array")
        head, label_head = _dense_heads(x.shape[1], y is not None)
        length = len(head) + 4 * x.shape[1] + (len(label_head) + 4 if y is not None else 0)
        stride = 8 + _pad(length)
        rows = np.zeros((n, stride), dtype=np.uint8)
        prefix = _MAGIC_BYTES + length.to_bytes(4, "little") + head
        rows[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
        f0 = len(prefix)
        rows[:, f0 : f0 + 4 * x.shape[1]] = x.view(np.uint8).reshape(n, -1)
        if y is not None:
            l0 = f0 + 4 * x.shape[1]
            rows[:, l0 : l0 + len(label_head)] = np.frombuffer(label_head, dtype=np.uint8)
            rows[:, l0 + len(label_head) : l0 + len(label_head) + 4] = y.view(np.uint8).reshape(n, 4)
        rows.tofile(out)
