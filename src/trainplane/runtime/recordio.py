"""MXNet RecordIO framing of whole objects, as SageMaker's Pipe mode applies it for a channel with
``RecordWrapperType: RecordIO``: each S3 object becomes one record.

The writer follows dmlc-core's ``RecordIOWriter``: a payload that holds the magic word at a 4-byte
aligned offset is split there into parts flagged first (1), middle (2) and last (3), and the magic word
itself is dropped, so that a reader never mistakes payload bytes for the start of a record; readers
rejoin the parts with the magic word between them.
"""

from __future__ import annotations

MAGIC = 0xCED7230A
_MAGIC_BYTES = MAGIC.to_bytes(4, "little")
MAX_PART_BYTES = (1 << 29) - 1  # the length field's 29 bits


class RecordTooLarge(ValueError):
    pass


def _header(flag: int, length: int) -> bytes:
    if length > MAX_PART_BYTES:
        raise RecordTooLarge(f"{length} bytes exceed RecordIO's limit of {MAX_PART_BYTES} bytes per record")
    return _MAGIC_BYTES + ((flag << 29) | length).to_bytes(4, "little")


def frame(payload: bytes) -> bytes:
    """``payload`` as one RecordIO record (several parts if it holds the magic word), zero-padded to
    a 4-byte boundary."""
    parts, start = [], 0
    aligned_end = len(payload) & ~3
    position = payload.find(_MAGIC_BYTES, 0, aligned_end)
    while position != -1:
        if position % 4 == 0:
            parts.append(_header(1 if start == 0 else 2, position - start) + payload[start:position])
            start = position + 4
        position = payload.find(_MAGIC_BYTES, position + 1, aligned_end)
    tail = payload[start:]
    padding = b"\0" * (-len(payload) % 4)
    parts.append(_header(3 if start else 0, len(tail)) + tail + padding)
    return b"".join(parts)
