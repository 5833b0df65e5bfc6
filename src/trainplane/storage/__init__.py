"""Artifacts by URI: ``s3://`` (a local directory or any S3 endpoint) and ``file://``, one interface."""

from typing import TYPE_CHECKING, Any

from trainplane.storage.base import ObjectInfo, ObjectNotFound, ObjectStore, StorageError
from trainplane.storage.filesystem import FileStore
from trainplane.storage.local_s3 import LocalS3Store
from trainplane.storage.router import Storage, open_storage
from trainplane.storage.uri import ParsedUri, parse_uri

if TYPE_CHECKING:
    from trainplane.storage.s3 import S3Store


def __getattr__(name: str) -> Any:
    # S3Store pulls in boto3; import it only when asked for.
    if name == "S3Store":
        from trainplane.storage.s3 import S3Store

        return S3Store
    raise AttributeError(f"module 'trainplane.storage' has no attribute {name!r}")


__all__ = [
    "FileStore",
    "LocalS3Store",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "ParsedUri",
    "S3Store",
    "Storage",
    "StorageError",
    "open_storage",
    "parse_uri",
]
