"""``s3://bucket/key`` backed by a directory: ``<root>/<bucket>/<key>``.

This is trainplane's default object store (root ``<home>/s3``). It keeps S3's semantics where they
matter to jobs: string-prefix listing sorted by key, MD5 ETags, atomic puts, and buckets that must
exist before objects are listed or written.
"""

from __future__ import annotations

from pathlib import Path

from trainplane.storage import fsutil
from trainplane.storage.base import ObjectInfo, ObjectNotFound, StorageError
from trainplane.storage.uri import check_key_parts, parse_uri, s3_uri


class LocalS3Store:
    """An S3 look-alike in a local directory; keys with ``.``/``..`` segments are rejected."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _locate(self, uri: str, *, need_key: bool = True) -> tuple[str, str, Path]:
        parsed = parse_uri(uri)
        if parsed.scheme != "s3":
            raise StorageError(f"LocalS3Store handles s3:// URIs only, got {uri!r}")
        if need_key and (not parsed.key or parsed.key.endswith("/")):
            raise StorageError(f"Invalid object URI {uri!r}: the key must name an object, not a prefix")
        if parsed.key:
            check_key_parts(uri, parsed.key.rstrip("/"))
        return parsed.bucket, parsed.key, self.root / parsed.bucket / parsed.key

    def _bucket_dir(self, bucket: str, uri: str) -> Path:
        path = self.root / bucket
        if not path.is_dir():
            raise ObjectNotFound(f"No such bucket {bucket!r} (while accessing {uri})")
        return path

    def list_objects(self, prefix_uri: str) -> list[ObjectInfo]:
        bucket, prefix, _ = self._locate(prefix_uri, need_key=False)
        bucket_dir = self._bucket_dir(bucket, prefix_uri)
        # Only the directory holding the prefix's last complete segment can contain matches.
        walk_root = bucket_dir / prefix.rpartition("/")[0]
        found = []
        for path, stat in fsutil.walk_files(walk_root):
            key = path.relative_to(bucket_dir).as_posix()
            if key.startswith(prefix):
                found.append(ObjectInfo(s3_uri(bucket, key), key, stat.st_size, None, stat.st_mtime))
        found.sort(key=lambda info: info.key)
        return found

    def head(self, uri: str) -> ObjectInfo | None:
        _, key, path = self._locate(uri)
        try:
            return fsutil.file_info(path, uri, key, with_etag=True)
        except ObjectNotFound:
            return None

    def download_file(self, uri: str, dest: Path) -> None:
        bucket, _, path = self._locate(uri)
        self._bucket_dir(bucket, uri)
        fsutil.require_file(path, uri)
        fsutil.atomic_copy(path, Path(dest), str(dest))

    def upload_file(self, src: Path, uri: str) -> ObjectInfo:
        bucket, key, path = self._locate(uri)
        self._bucket_dir(bucket, uri)
        fsutil.atomic_copy(Path(src), path, uri)
        return fsutil.file_info(path, uri, key, with_etag=True)

    def read_bytes(self, uri: str) -> bytes:
        _, _, path = self._locate(uri)
        fsutil.require_file(path, uri)
        return path.read_bytes()

    def write_bytes(self, data: bytes, uri: str) -> ObjectInfo:
        bucket, key, path = self._locate(uri)
        self._bucket_dir(bucket, uri)
        fsutil.atomic_write(data, path, uri)
        return fsutil.file_info(path, uri, key, with_etag=False, data=data)

    def delete(self, uri: str) -> None:
        _, _, path = self._locate(uri)
        fsutil.remove_file(path)

    def ensure_bucket(self, bucket: str) -> None:
        parse_uri(s3_uri(bucket, ""))  # validates the name
        (self.root / bucket).mkdir(parents=True, exist_ok=True)

    def transfer_concurrency(self, uri: str) -> int:
        return 1
