"""The object-store seam: what every backend (local directory, S3 endpoint, file://) promises.

Everything is addressed by URI so that the runtime never cares where a job's data lives. The
contract, checked by one test suite run against every backend:

- ``list_objects`` has S3's *string*-prefix semantics for ``s3://`` (``s3://b/train`` also matches
  ``train2/x``) and returns objects sorted by key; ``file://`` lists the files below a directory, or
  the one file a URI names.
- ``head`` answers ``None`` for a missing object; every other read of a missing object raises
  ``ObjectNotFound`` (a ``StorageError``), never a backend exception.
- Writes are atomic: a reader sees the old object or the new one, never a partial file.
- ``ObjectInfo.etag`` is S3's ETag without quotes (the MD5 hex of a single-part object). Filesystem
  backends compute it in ``head`` and on writes, but leave it ``None`` in listings, because computing
  it there would mean reading every byte of every object.
- ``delete`` of a missing object is not an error (as in S3).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from trainplane.errors import TrainplaneError

_HASH_CHUNK = 4 * 1024 * 1024


class StorageError(TrainplaneError):
    """A storage operation failed; the message names the URI and the reason."""


class ObjectNotFound(StorageError):
    """The object (or its bucket) does not exist."""


@dataclass(frozen=True)
class ObjectInfo:
    uri: str
    key: str
    size: int
    etag: str | None = None
    last_modified: float | None = None


@runtime_checkable
class ObjectStore(Protocol):
    """Objects addressed by URI. See the module docstring for the invariants."""

    def list_objects(self, prefix_uri: str) -> list[ObjectInfo]: ...

    def head(self, uri: str) -> ObjectInfo | None: ...

    def download_file(self, uri: str, dest: Path) -> None: ...

    def upload_file(self, src: Path, uri: str) -> ObjectInfo: ...

    def read_bytes(self, uri: str) -> bytes: ...

    def write_bytes(self, data: bytes, uri: str) -> ObjectInfo: ...

    def delete(self, uri: str) -> None: ...

    def ensure_bucket(self, bucket: str) -> None: ...

    def transfer_concurrency(self, uri: str) -> int:
        """How many object transfers at ``uri`` are worth running at once (1 for a local disk)."""
        ...


def md5_file(path: Path) -> str:
    """MD5 hex of a file, read in large chunks (hashlib releases the GIL on big buffers)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def multipart_etag(path: Path, part_size: int) -> str:
    """S3's ETag of a multipart upload: MD5 of the parts' MD5 digests, then ``-<parts>``."""
    digests = []
    with path.open("rb") as handle:
        while chunk := handle.read(part_size):
            digests.append(hashlib.md5(chunk, usedforsecurity=False).digest())
    combined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    return f"{combined}-{len(digests)}"
