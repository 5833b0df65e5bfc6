"""Parsing of ``s3://bucket/key`` and ``file:///abs/path`` URIs.

``file://`` is a trainplane extension accepted wherever SageMaker takes an S3 URI. Its path is taken
literally (no percent-decoding), so that ``prefix + relative key`` string arithmetic, which SageMaker
manifests rely on, means the same thing for both schemes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trainplane.storage.base import StorageError

# Looser than S3's naming rules (which want 3..63 lower-case characters) so that short test names like
# ``s3://b/...`` work against the local store; a real endpoint still rejects what it rejects. What
# matters here is that a bucket can never be ``.``/``..`` or contain a path separator.
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,62}$")


@dataclass(frozen=True)
class ParsedUri:
    """``scheme`` is ``s3`` or ``file``; for ``file`` the bucket is empty and ``key`` is the path."""

    scheme: str
    bucket: str
    key: str


def parse_uri(uri: str) -> ParsedUri:
    """Split a storage URI, raising StorageError with the reason when it is malformed."""
    if not isinstance(uri, str) or "\x00" in uri:
        raise StorageError(f"Invalid storage URI {uri!r}")
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not _BUCKET.match(bucket):
            raise StorageError(f"Invalid S3 URI {uri!r}: {bucket!r} is not a valid bucket name")
        return ParsedUri("s3", bucket, key)
    if uri.startswith("file://"):
        rest = uri[len("file://") :]
        if rest.startswith("localhost/"):
            rest = rest[len("localhost") :]
        if not rest.startswith("/"):
            raise StorageError(f"Invalid file URI {uri!r}: expected file:///absolute/path")
        return ParsedUri("file", "", rest)
    raise StorageError(f"Unsupported storage URI {uri!r}: expected s3://bucket/key or file:///path")


def check_key_parts(uri: str, key: str) -> None:
    """Reject keys that would escape (``..``) or alias (``.``) when mapped onto a directory tree."""
    if key.startswith("/"):
        raise StorageError(f"Invalid object key in {uri!r}: absolute paths are not allowed")
    if any(part in (".", "..") for part in key.split("/")):
        raise StorageError(f"Invalid object key in {uri!r}: '.' and '..' path segments are not allowed")


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def file_uri(path: str) -> str:
    return f"file://{path}"
