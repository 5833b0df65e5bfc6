"""One storage object for the whole runtime: it routes each URI to the backend for its scheme.

``s3://`` goes to a boto3 endpoint when one is configured, otherwise to the local-directory store;
``file://`` always goes to the filesystem. Callers never choose a backend themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from trainplane.storage.base import ObjectInfo, ObjectStore
from trainplane.storage.filesystem import FileStore
from trainplane.storage.local_s3 import LocalS3Store
from trainplane.storage.uri import parse_uri


class Storage:
    """Routes every ObjectStore operation by URI scheme; satisfies ObjectStore itself."""

    def __init__(self, s3: ObjectStore, files: ObjectStore | None = None) -> None:
        self.s3 = s3
        self.files = files if files is not None else FileStore()

    def backend(self, uri: str) -> ObjectStore:
        return self.s3 if parse_uri(uri).scheme == "s3" else self.files

    def list_objects(self, prefix_uri: str) -> list[ObjectInfo]:
        return self.backend(prefix_uri).list_objects(prefix_uri)

    def head(self, uri: str) -> ObjectInfo | None:
        return self.backend(uri).head(uri)

    def download_file(self, uri: str, dest: Path) -> None:
        self.backend(uri).download_file(uri, dest)

    def upload_file(self, src: Path, uri: str) -> ObjectInfo:
        return self.backend(uri).upload_file(src, uri)

    def read_bytes(self, uri: str) -> bytes:
        return self.backend(uri).read_bytes(uri)

    def write_bytes(self, data: bytes, uri: str) -> ObjectInfo:
        return self.backend(uri).write_bytes(data, uri)

    def delete(self, uri: str) -> None:
        self.backend(uri).delete(uri)

    def ensure_bucket(self, bucket: str) -> None:
        self.s3.ensure_bucket(bucket)

    def transfer_concurrency(self, uri: str) -> int:
        return self.backend(uri).transfer_concurrency(uri)


def open_storage(
    local_s3_root: Path,
    s3_endpoint_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Storage:
    """The storage for a process: an S3 endpoint if one is given (or set in ``environ`` through
    ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``), else S3 emulated under ``local_s3_root``.
    """
    env = os.environ if environ is None else environ
    endpoint = s3_endpoint_url or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None
    if endpoint:
        # boto3 costs ~100 ms to import: only processes that talk to an S3 endpoint pay for it.
        from trainplane.storage.s3 import S3Store

        return Storage(S3Store(endpoint, env))
    return Storage(LocalS3Store(local_s3_root))
