"""Filesystem mechanics shared by the two disk-backed stores (local-directory S3 and file://).

Copies go through ``shutil.copyfile``, which uses ``sendfile`` on Linux: the bytes never enter
Python, which is what keeps channel staging close to native ``cp`` speed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from trainplane.storage.base import ObjectInfo, ObjectNotFound, StorageError, md5_file

# Temp files live next to their destination (so the final rename stays on one filesystem) and are
# hidden from listings by this prefix.
TMP_PREFIX = ".trainplane-tmp-"


def _temp_path(dest: Path) -> Path:
    return dest.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}-{dest.name}")


def _prepare_parent(dest: Path, uri: str) -> None:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise StorageError(f"Cannot write {uri}: a parent of {dest} is a file") from exc
    if dest.is_dir():
        raise StorageError(f"Cannot write {uri}: {dest} is a directory")


def atomic_copy(src: Path, dest: Path, uri: str) -> None:
    """Copy ``src`` to ``dest`` through a temp file and a rename, so readers never see half a file."""
    _prepare_parent(dest, uri)
    tmp = _temp_path(dest)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(data: bytes, dest: Path, uri: str) -> None:
    _prepare_parent(dest, uri)
    tmp = _temp_path(dest)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def require_file(path: Path, uri: str) -> os.stat_result:
    """The stat of a regular file, or ObjectNotFound (a directory is not an object)."""
    try:
        stat = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise ObjectNotFound(f"No such object: {uri}") from None
    if not path.is_file():
        raise ObjectNotFound(f"No such object: {uri} (it is a directory)")
    return stat


def file_info(path: Path, uri: str, key: str, *, with_etag: bool, data: bytes | None = None) -> ObjectInfo:
    stat = require_file(path, uri)
    etag = None
    if data is not None:
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
    elif with_etag:
        etag = md5_file(path)
    return ObjectInfo(uri=uri, key=key, size=stat.st_size, etag=etag, last_modified=stat.st_mtime)


def walk_files(top: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every regular file below ``top`` (symlinked directories are not followed), skipping temp files."""
    for dirpath, _dirnames, filenames in os.walk(top):
        for name in filenames:
            if name.startswith(TMP_PREFIX):
                continue
            path = Path(dirpath, name)
            try:
                stat = path.stat()
            except FileNotFoundError:  # deleted while we walked
                continue
            if path.is_file():
                yield path, stat


def remove_file(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        pass
