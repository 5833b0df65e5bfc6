"""``s3://`` on any S3-compatible endpoint (AWS, MinIO, moto) through boto3.

Configuration comes from an environment mapping passed in, not from globals: the endpoint is given
explicitly or read from ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``; loopback and IP endpoints get
path-style addressing (virtual-host names cannot resolve there) and, when the environment has no
credentials, dummy ones, since local S3 servers accept any signature.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from trainplane.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    StorageError,
    md5_file,
    multipart_etag,
)
from trainplane.storage.uri import parse_uri, s3_uri

_MB = 1024 * 1024
_NOT_FOUND_CODES = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}
_LOCAL_FALLBACK_CREDENTIALS = ("trainplane", "trainplane")
DEFAULT_REGION = "us-east-1"


def resolve_endpoint(endpoint_url: str | None, environ: Mapping[str, str]) -> str | None:
    # Keep in step with router.open_storage, which inlines this rule to avoid importing boto3.
    return endpoint_url or environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None


def is_local_endpoint(endpoint_url: str | None) -> bool:
    """True for localhost and IP-literal endpoints (path-style addressing, dummy credentials ok)."""
    if not endpoint_url:
        return False
    host = urlsplit(endpoint_url).hostname or ""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _max_attempts(environ: Mapping[str, str]) -> int:
    raw = environ.get("AWS_MAX_ATTEMPTS", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 5


def _make_client(endpoint_url: str | None, environ: Mapping[str, str], pool_size: int) -> Any:
    local = is_local_endpoint(endpoint_url)
    key_id = environ.get("AWS_ACCESS_KEY_ID")
    secret = environ.get("AWS_SECRET_ACCESS_KEY")
    token = environ.get("AWS_SESSION_TOKEN")
    if local and not (key_id and secret):
        key_id, secret = _LOCAL_FALLBACK_CREDENTIALS
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    session = boto3.session.Session(
        aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token, region_name=region
    )
    config = Config(
        s3={"addressing_style": "path" if local else "auto"},
        retries={"max_attempts": _max_attempts(environ), "mode": "standard"},
        max_pool_connections=max(10, pool_size),
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config)


@contextmanager
def _translated(operation: str, uri: str) -> Iterator[None]:
    """Turn botocore errors into StorageError with the URI in the message and no botocore traceback."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        if code in _NOT_FOUND_CODES:
            what = "bucket" if code == "NoSuchBucket" else "object"
            raise ObjectNotFound(f"No such {what}: {uri} ({operation}: {code})") from None
        message = error.get("Message") or code
        raise StorageError(f"S3 {operation} on {uri} failed: {code}: {message}") from None
    except BotoCoreError as exc:
        raise StorageError(f"S3 {operation} on {uri} failed: {exc}") from None


class S3Store:
    """boto3-backed store; multipart transfers via boto3's transfer manager, uploads verified."""

    def __init__(
        self,
        endpoint_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        *,
        part_size: int = 16 * _MB,
        max_concurrency: int = 8,
        client: Any = None,
    ) -> None:
        env = environ if environ is not None else {}
        self.endpoint_url = resolve_endpoint(endpoint_url, env)
        self.region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        self.client = client or _make_client(self.endpoint_url, env, max_concurrency * 2)
        self.part_size = part_size
        self.max_concurrency = max_concurrency
        self.transfer = TransferConfig(
            multipart_threshold=part_size, multipart_chunksize=part_size, max_concurrency=max_concurrency
        )
        self._buckets_seen: set[str] = set()

    @staticmethod
    def _split(uri: str, *, need_key: bool = True) -> tuple[str, str]:
        parsed = parse_uri(uri)
        if parsed.scheme != "s3":
            raise StorageError(f"S3Store handles s3:// URIs only, got {uri!r}")
        if need_key and (not parsed.key or parsed.key.endswith("/")):
            raise StorageError(f"Invalid object URI {uri!r}: the key must name an object, not a prefix")
        return parsed.bucket, parsed.key

    def list_objects(self, prefix_uri: str) -> list[ObjectInfo]:
        bucket, prefix = self._split(prefix_uri, need_key=False)
        found = []
        with _translated("ListObjectsV2", prefix_uri):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    found.append(self._info(bucket, item["Key"], item))
        return found  # S3 already returns keys in UTF-8 byte order

    def head(self, uri: str) -> ObjectInfo | None:
        bucket, key = self._split(uri)
        try:
            with _translated("HeadObject", uri):
                response = self.client.head_object(Bucket=bucket, Key=key)
        except ObjectNotFound:
            return None
        return self._info(bucket, key, response)

    def download_file(self, uri: str, dest: Path) -> None:
        bucket, key = self._split(uri)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        # The transfer manager writes to a temp name and renames, so the download is atomic.
        with _translated("GetObject", uri):
            self.client.download_file(bucket, key, str(dest), Config=self.transfer)

    def _require_bucket(self, bucket: str, uri: str) -> None:
        """Writes to a missing bucket fail, as on AWS: some S3 servers (SeaweedFS) create a bucket on its
        first write, which would let a job's output land in a bucket its owner never made."""
        if bucket in self._buckets_seen:
            return
        with _translated("HeadBucket", uri):
            try:
                self.client.head_bucket(Bucket=bucket)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND_CODES:
                    raise ObjectNotFound(f"No such bucket: {uri} (PutObject: NoSuchBucket)") from None
                raise
        self._buckets_seen.add(bucket)

    def upload_file(self, src: Path, uri: str) -> ObjectInfo:
        bucket, key = self._split(uri)
        src = Path(src)
        self._require_bucket(bucket, uri)
        with _translated("PutObject", uri):
            self.client.upload_file(str(src), bucket, key, Config=self.transfer)
        info = self.head(uri)
        if info is None:
            raise StorageError(f"Upload of {src} to {uri} did not produce an object")
        self._verify(src, info)
        return info

    def _verify(self, src: Path, info: ObjectInfo) -> None:
        size = src.stat().st_size
        if info.size != size:
            raise StorageError(f"Upload of {src} to {info.uri} is {info.size} bytes, expected {size}")
        etag = info.etag or ""
        if "-" in etag:
            parts = int(etag.rpartition("-")[2] or 0)
            # The transfer manager enlarges parts beyond 10,000 of them; only check what we can predict.
            if parts != math.ceil(size / self.part_size):
                return
            expected = multipart_etag(src, self.part_size)
        elif etag:
            expected = md5_file(src)
        else:
            return
        if etag != expected:
            raise StorageError(f"Upload of {src} to {info.uri} has ETag {etag}, expected {expected}")

    def read_bytes(self, uri: str) -> bytes:
        bucket, key = self._split(uri)
        with _translated("GetObject", uri):
            body: bytes = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def write_bytes(self, data: bytes, uri: str) -> ObjectInfo:
        bucket, key = self._split(uri)
        self._require_bucket(bucket, uri)
        with _translated("PutObject", uri):
            self.client.put_object(Bucket=bucket, Key=key, Body=data)
        info = self.head(uri)
        expected = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if info is None or info.size != len(data) or info.etag not in (None, expected):
            raise StorageError(f"Write of {len(data)} bytes to {uri} was not stored intact")
        return info

    def delete(self, uri: str) -> None:
        bucket, key = self._split(uri)
        with _translated("DeleteObject", uri):
            self.client.delete_object(Bucket=bucket, Key=key)

    def ensure_bucket(self, bucket: str) -> None:
        uri = s3_uri(bucket, "")
        parse_uri(uri)
        try:
            with _translated("HeadBucket", uri):
                self.client.head_bucket(Bucket=bucket)
            self._buckets_seen.add(bucket)
            return
        except ObjectNotFound:
            pass
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if self.region != DEFAULT_REGION:
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            with _translated("CreateBucket", uri):
                self.client.create_bucket(**kwargs)
        except StorageError as exc:
            if "BucketAlreadyOwnedByYou" not in str(exc):  # lost a creation race with ourselves
                raise
        self._buckets_seen.add(bucket)

    def transfer_concurrency(self, uri: str) -> int:
        return min(4, self.max_concurrency)

    @staticmethod
    def _info(bucket: str, key: str, meta: Mapping[str, Any]) -> ObjectInfo:
        size = meta.get("Size", meta.get("ContentLength", 0))
        etag = str(meta.get("ETag", "")).strip('"') or None
        modified = meta.get("LastModified")
        return ObjectInfo(
            uri=s3_uri(bucket, key),
            key=key,
            size=int(size),
            etag=etag,
            last_modified=modified.timestamp() if modified is not None else None,
        )
