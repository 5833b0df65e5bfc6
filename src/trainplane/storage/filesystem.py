"""``file:///abs/path``: the local filesystem, a trainplane extension accepted wherever SageMaker
takes an S3 URI (channels, output path, checkpoints).

Listing differs from S3 on purpose: a directory URI lists the files below it recursively and a file
URI lists that file, which is what a user pointing a channel at a local folder expects. There are no
buckets, so ``ensure_bucket`` has nothing to do.
"""

from __future__ import annotations

from pathlib import Path

from trainplane.storage import fsutil
from trainplane.storage.base import ObjectInfo, ObjectNotFound, StorageError
from trainplane.storage.uri import check_key_parts, file_uri, parse_uri


class FileStore:
    """Objects are plain files; the ObjectInfo key is the absolute path."""

    def _locate(self, uri: str) -> Path:
        parsed = parse_uri(uri)
        if parsed.scheme != "file":
            raise StorageError(f"FileStore handles file:// URIs only, got {uri!r}")
        check_key_parts(uri, parsed.key.lstrip("/"))
        return Path(parsed.key)

    def list_objects(self, prefix_uri: str) -> list[ObjectInfo]:
        path = self._locate(prefix_uri)
        if path.is_file():
            stat = path.stat()
            return [ObjectInfo(prefix_uri, str(path), stat.st_size, None, stat.st_mtime)]
        found = []
        for child, stat in fsutil.walk_files(path):
            found.append(ObjectInfo(file_uri(str(child)), str(child), stat.st_size, None, stat.st_mtime))
        found.sort(key=lambda info: info.key)
        return found

    def head(self, uri: str) -> ObjectInfo | None:
        path = self._locate(uri)
        try:
            return fsutil.file_info(path, uri, str(path), with_etag=True)
        except ObjectNotFound:
            return None

    def download_file(self, uri: str, dest: Path) -> None:
        path = self._locate(uri)
        fsutil.require_file(path, uri)
        fsutil.atomic_copy(path, Path(dest), str(dest))

    def upload_file(self, src: Path, uri: str) -> ObjectInfo:
        path = self._locate(uri)
        fsutil.atomic_copy(Path(src), path, uri)
        return fsutil.file_info(path, uri, str(path), with_etag=True)

    def read_bytes(self, uri: str) -> bytes:
        path = self._locate(uri)
        fsutil.require_file(path, uri)
        return path.read_bytes()

    def write_bytes(self, data: bytes, uri: str) -> ObjectInfo:
        path = self._locate(uri)
        fsutil.atomic_write(data, path, uri)
        return fsutil.file_info(path, uri, str(path), with_etag=False, data=data)

    def delete(self, uri: str) -> None:
        fsutil.remove_file(self._locate(uri))

    def ensure_bucket(self, bucket: str) -> None:
        """file:// has no buckets."""

    def transfer_concurrency(self, uri: str) -> int:
        return 1
