"""Hand-written protobuf wire coding for SageMaker's ``Record`` message (``record.proto``).

Only what the built-in algorithms need::

    message Float32Tensor { repeated float values = 1 [packed]; repeated uint64 keys = 2 [packed];
                            repeated uint64 shape = 3 [packed]; }
    message Float64Tensor { repeated double values = 1 [packed]; keys = 2; shape = 3 }
    message Int32Tensor   { repeated int32 values = 1 [packed]; keys = 2; shape = 3 }
    message Value  { oneof value { Float32Tensor float32_tensor = 2; Float64Tensor float64_tensor = 3;
                                   Int32Tensor int32_tensor = 7; Bytes bytes = 9; } }
    message Record { map<string, Value> features = 1; map<string, Value> label = 2; ... }

A map field is a repeated message ``{string key = 1; Value value = 2}``. Readers accept packed and unpacked
repeated fields (both are valid encodings); the writer emits packed ones, as the SageMaker SDK does. We
decode by hand instead of depending on ``protobuf`` because the schema is tiny and stable and the hot path
(dense records) is vectorised in ``recordio_protobuf`` anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
_VALUE_DTYPES: dict[int, Any] = {
    2: np.dtype("<f4"),
    3: np.dtype("<f8"),
    7: None,
}  # Int32Tensor values are varints


class ProtobufError(ValueError):
    """The bytes are not a well-formed Record message."""


@dataclass
class Tensor:
    values: np.ndarray
    keys: np.ndarray | None = None
    shape: tuple[int, ...] | None = None


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint longer than 10 bytes")


def encode_varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # two's complement, as protobuf encodes negative int32/int64
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _fields(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """Yield (field number, wire type, value) where value is an int or a (start, end) slice."""
    pos = start
    while pos < end:
        tag, pos = read_varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == VARINT:
            value, pos = read_varint(buf, pos)
            yield field, wire, value
        elif wire == LENGTH:
            size, pos = read_varint(buf, pos)
            if pos + size > end:
                raise ProtobufError("length-delimited field runs past the end of its message")
            yield field, wire, (pos, pos + size)
            pos += size
        elif wire in (FIXED32, FIXED64):
            width = 4 if wire == FIXED32 else 8
            if pos + width > end:
                raise ProtobufError("truncated fixed-width field")
            yield field, wire, (pos, pos + width)
            pos += width
        else:
            raise ProtobufError(f"unsupported wire type {wire} for field {field}")
    if pos != end:
        raise ProtobufError("message runs past its declared length")


def _varints(buf: bytes, start: int, end: int) -> list[int]:
    out, pos = [], start
    while pos < end:
        value, pos = read_varint(buf, pos)
        out.append(value)
    return out


def _decode_tensor(buf: bytes, start: int, end: int, kind: int) -> Tensor:
    dtype = _VALUE_DTYPES[kind]
    values: list[np.ndarray] = []
    keys: list[int] = []
    shape: list[int] = []
    for field, wire, value in _fields(buf, start, end):
        if field == 1:
            if dtype is None:  # int32 values: packed or single varints
                ints = _varints(buf, *value) if wire == LENGTH else [value]
                values.append(np.asarray(ints, dtype=np.int64).astype(np.int32))
            else:
                values.append(
                    np.frombuffer(
                        buf, dtype=dtype, count=(value[1] - value[0]) // dtype.itemsize, offset=value[0]
                    )
                )
        elif field in (2, 3):
            target = keys if field == 2 else shape
            target.extend(_varints(buf, *value) if wire == LENGTH else [value])
    merged = np.concatenate(values) if values else np.zeros(0, dtype=np.float32)
    return Tensor(
        values=merged,
        keys=np.asarray(keys, dtype=np.int64) if keys else None,
        shape=tuple(shape) if shape else None,
    )


def _decode_value(buf: bytes, start: int, end: int) -> Tensor | None:
    tensor = None
    for field, wire, value in _fields(buf, start, end):
        if wire == LENGTH and field in _VALUE_DTYPES:
            tensor = _decode_tensor(buf, value[0], value[1], field)
    return tensor  # None for Bytes values, which the numeric algorithms ignore


def decode_record(buf: bytes, start: int = 0, end: int | None = None) -> tuple[dict, dict]:
    """Decode one Record into ({feature name: Tensor}, {label name: Tensor})."""
    end = len(buf) if end is None else end
    maps: tuple[dict, dict] = ({}, {})
    for field, wire, value in _fields(buf, start, end):
        if field not in (1, 2) or wire != LENGTH:
            continue  # uid, metadata, configuration
        key, tensor = "", None
        for sub, sub_wire, sub_value in _fields(buf, value[0], value[1]):
            if sub == 1 and sub_wire == LENGTH:
                key = buf[sub_value[0] : sub_value[1]].decode("utf-8")
            elif sub == 2 and sub_wire == LENGTH:
                tensor = _decode_value(buf, sub_value[0], sub_value[1])
        if tensor is not None:
            maps[field - 1][key] = tensor
    return maps


def _length_field(field: int, payload: bytes) -> bytes:
    return encode_varint((field << 3) | LENGTH) + encode_varint(len(payload)) + payload


def encode_float32_tensor(
    values: np.ndarray, keys: np.ndarray | None = None, shape: tuple[int, ...] | None = None
) -> bytes:
    body = _length_field(1, np.ascontiguousarray(values, dtype="<f4").tobytes())
    if keys is not None:
        body += _length_field(2, b"".join(encode_varint(int(k)) for k in keys))
    if shape is not None:
        body += _length_field(3, b"".join(encode_varint(int(s)) for s in shape))
    return body


def encode_map_entry(field: int, key: str, tensor_body: bytes) -> bytes:
    """One ``features``/``label`` map entry holding a Float32Tensor value."""
    value = _length_field(2, tensor_body)  # Value.float32_tensor
    return _length_field(field, _length_field(1, key.encode("utf-8")) + _length_field(2, value))
