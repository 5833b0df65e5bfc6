"""RecordIO-protobuf: byte layout, round trips, both decoder paths, malformed input."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from trainplane.algorithms.formats import DataFormatError, read_channel
from trainplane.algorithms.formats._protobuf import decode_record, encode_varint, read_varint
from trainplane.algorithms.formats.recordio_protobuf import (
    _read_general,
    read_recordio_protobuf_files,
    write_recordio_protobuf,
)

VALUES = b"values"


def test_dense_record_bytes_match_hand_encoding(tmp_path: Path) -> None:
    path = tmp_path / "one.rec"
    write_recordio_protobuf(path, np.array([[1.0, 2.0]], dtype=np.float32), np.array([1.0]))
    tensor = b"\x0a\x08" + struct.pack("<ff", 1.0, 2.0)  # Float32Tensor.values, packed
    value = b"\x12\x0a" + tensor  # Value.float32_tensor (field 2)
    entry = b"\x0a\x06" + VALUES + b"\x12\x0c" + value  # map entry: key=1, value=2
    label_tensor = b"\x0a\x04" + struct.pack("<f", 1.0)
    label_entry = b"\x0a\x06" + VALUES + b"\x12\x08" + b"\x12\x06" + label_tensor
    record = b"\x0a\x16" + entry + b"\x12\x12" + label_entry  # Record.features=1, Record.label=2
    assert len(record) == 44
    expected = bytes.fromhex("0a23d7ce") + struct.pack("<I", 44) + record  # 44 % 4 == 0: no padding
    assert path.read_bytes() == expected


def test_varint_round_trip() -> None:
    for value in (0, 1, 127, 128, 300, 2**35 + 7):
        encoded = encode_varint(value)
        assert read_varint(encoded, 0) == (value, len(encoded))
    assert encode_varint(300) == b"\xac\x02"


def test_dense_round_trip_fast_and_general_paths_agree(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((257, 7)).astype(np.float32)
    y = rng.integers(0, 3, 257).astype(np.float32)
    path = tmp_path / "d.rec"
    write_recordio_protobuf(path, x, y)
    data = read_recordio_protobuf_files([path], {})
    np.testing.assert_array_equal(data.features, x)
    np.testing.assert_array_equal(data.labels, y)
    gx, gy = _read_general(path.read_bytes(), str(path))
    np.testing.assert_array_equal(gx, x)
    np.testing.assert_array_equal(gy, y)


def test_sparse_round_trip_keeps_shape_and_labels(tmp_path: Path) -> None:
    x = sp.random(50, 300, density=0.03, format="csr", dtype=np.float32, random_state=1)
    y = np.arange(50, dtype=np.float32)
    path = tmp_path / "s.rec"
    write_recordio_protobuf(path, x, y)
    data = read_recordio_protobuf_files([path], {})
    assert sp.issparse(data.features) and data.features.shape == (50, 300)
    assert abs(data.features - x).max() == 0
    np.testing.assert_array_equal(data.labels, y)


def test_unlabelled_records_and_multiple_files(tmp_path: Path) -> None:
    x = np.ones((3, 2), dtype=np.float32)
    write_recordio_protobuf(tmp_path / "a.rec", x)
    write_recordio_protobuf(tmp_path / "b.rec", 2 * x)
    data = read_recordio_protobuf_files([tmp_path / "a.rec", tmp_path / "b.rec"], {})
    assert data.labels is None and data.features.shape == (6, 2)
    assert data.features[5, 0] == 2


def _frame(payload: bytes, flag: int = 0) -> bytes:
    pad = b"\0" * (-len(payload) % 4)
    return bytes.fromhex("0a23d7ce") + struct.pack("<I", (flag << 29) | len(payload)) + payload + pad


def test_unpacked_floats_and_split_records_are_read(tmp_path: Path) -> None:
    # values as two unpacked fixed32 fields (wire type 5), which protobuf writers may emit
    tensor = b"\x0d" + struct.pack("<f", 3.0) + b"\x0d" + struct.pack("<f", 4.0)
    entry = (
        b"\x0a\x06" + VALUES + b"\x12" + bytes([len(tensor) + 2]) + b"\x12" + bytes([len(tensor)]) + tensor
    )
    record = b"\x0a" + bytes([len(entry)]) + entry
    assert decode_record(record)[0]["values"].values.tolist() == [3.0, 4.0]
    # dmlc's writer splits a record whose payload contains the magic word: parts flagged 1 (first) and
    # 3 (last), the magic itself dropped; the reader puts it back
    magic = bytes.fromhex("0a23d7ce")
    (magic_float,) = struct.unpack("<f", magic)
    path = tmp_path / "m.rec"
    write_recordio_protobuf(path, np.array([[magic_float, 5.0]], dtype=np.float32))
    raw = path.read_bytes()
    whole = raw[8 : 8 + struct.unpack("<I", raw[4:8])[0]]
    cut = whole.index(magic)
    path.write_bytes(_frame(whole[:cut], 1) + _frame(whole[cut + 4 :], 3) + _frame(record))
    data = read_recordio_protobuf_files([path], {})
    assert data.features.shape == (2, 2)
    assert data.features[0].tobytes() == np.array([magic_float, 5.0], dtype=np.float32).tobytes()
    assert data.features[1].tolist() == [3.0, 4.0]


def test_bad_magic_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.rec"
    path.write_bytes(b"not a recordio file at all")
    with pytest.raises(DataFormatError, match=r"bad\.rec"):
        read_recordio_protobuf_files([path], {})


def test_truncated_record_and_mismatched_files_fail(tmp_path: Path) -> None:
    write_recordio_protobuf(tmp_path / "a.rec", np.ones((2, 3), dtype=np.float32), np.ones(2))
    raw = (tmp_path / "a.rec").read_bytes()
    (tmp_path / "t.rec").write_bytes(raw[:-10])
    with pytest.raises(DataFormatError, match=r"t\.rec|past the end"):
        read_recordio_protobuf_files([tmp_path / "t.rec"], {})
    write_recordio_protobuf(tmp_path / "b.rec", np.ones((2, 4), dtype=np.float32), np.ones(2))
    with pytest.raises(DataFormatError, match=r"b\.rec: feature dimension 4"):
        read_recordio_protobuf_files([tmp_path / "a.rec", tmp_path / "b.rec"], {})


def test_read_channel_dispatches_on_content_type(tmp_path: Path) -> None:
    write_recordio_protobuf(tmp_path / "part-0", np.eye(3, dtype=np.float32), np.zeros(3))
    data = read_channel(tmp_path, "application/x-recordio-protobuf")
    assert data.num_rows == 3 and data.num_features == 3
