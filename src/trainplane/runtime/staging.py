"""Channel staging: copy one InputDataConfig channel's objects into ``input/data/<channel>``.

What lands where follows SageMaker File mode:

- ``S3Prefix``: every object whose key starts with the prefix (a *string* prefix). Each object is
  written at its URI relative to the prefix's last ``/``: for ``s3://b/train/`` the object
  ``train/sub/x.csv`` becomes ``sub/x.csv``; for ``s3://b/train/data`` the object ``train/data1.csv``
  becomes ``data1.csv``. Zero-byte "folder" objects (keys ending in ``/``) are skipped.
- ``ManifestFile``: a JSON array ``[{"prefix": "s3://b/p/"}, "rel1", ...]``; object ``prefix + rel``
  is written relative to the prefix's last ``/`` (normally just ``rel``).
- ``ShardedByS3Key``: host i (0-based) of n gets ``objects[i::n]`` of the key-sorted list (after the
  ShuffleConfig shuffle, if any), so every host computes the same partition without talking to the
  others; with more hosts than objects some hosts get an empty channel. ``FullyReplicated``: all.

Errors are raised as ``StagingError`` with SageMaker's ``ClientError: `` wording, which becomes the
job's FailureReason as it is.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from trainplane.errors import TrainplaneError
from trainplane.storage import ObjectNotFound, ObjectStore, StorageError

_NOT_SUPPORTED = "is not supported by trainplane yet"


class StagingError(TrainplaneError):
    """A channel could not be staged; the message starts with ``ClientError: ``."""


@dataclass(frozen=True)
class StagedChannel:
    name: str
    path: Path
    file_count: int
    total_bytes: int


@dataclass(frozen=True)
class _Item:
    uri: str
    rel: str


def stage_channel(
    channel: Mapping[str, Any],
    dest: Path,
    storage: ObjectStore,
    *,
    host_index: int,
    host_count: int,
    input_mode: str | None = None,
) -> StagedChannel:
    """Copy this host's share of ``channel`` into the directory ``dest`` (created if missing).

    ``input_mode`` is the job's TrainingInputMode; the channel's own InputMode wins over it.
    """
    if host_count < 1 or not 0 <= host_index < host_count:
        raise ValueError(f"host_index {host_index} is not within host_count {host_count}")
    name = str(channel.get("ChannelName", ""))
    source = _s3_source(channel, name, input_mode)
    items = _resolve(source, storage)
    seed = (channel.get("ShuffleConfig") or {}).get("Seed")
    if seed is not None:
        random.Random(int(seed)).shuffle(items)
    distribution = source.get("S3DataDistributionType") or "FullyReplicated"
    if distribution == "ShardedByS3Key":
        items = items[host_index::host_count]
    elif distribution != "FullyReplicated":
        raise StagingError(
            f'ClientError: Unknown S3DataDistributionType "{distribution}" for channel "{name}"'
        )
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    total = _copy_all(items, dest, storage)
    return StagedChannel(name=name, path=dest, file_count=len(items), total_bytes=total)


def _s3_source(channel: Mapping[str, Any], name: str, input_mode: str | None) -> Mapping[str, Any]:
    data_source = channel.get("DataSource") or {}
    for other in ("FileSystemDataSource", "DatasetSource"):
        if other in data_source:
            raise StagingError(f'ClientError: {other} {_NOT_SUPPORTED} (channel "{name}"); use S3DataSource')
    source = data_source.get("S3DataSource")
    if not source or not source.get("S3Uri"):
        raise StagingError(f'ClientError: Channel "{name}" has no S3DataSource with an S3Uri')
    mode = channel.get("InputMode") or input_mode or "File"
    if mode == "Pipe":
        raise StagingError(f'ClientError: Pipe input mode {_NOT_SUPPORTED} (channel "{name}"); use File')
    data_type = source.get("S3DataType") or "S3Prefix"
    if data_type not in ("S3Prefix", "ManifestFile"):
        raise StagingError(f'ClientError: S3DataType {data_type} {_NOT_SUPPORTED} (channel "{name}")')
    return source


def _resolve(source: Mapping[str, Any], storage: ObjectStore) -> list[_Item]:
    """The channel's objects with their channel-relative paths, sorted by URI."""
    uri = str(source["S3Uri"])
    if (source.get("S3DataType") or "S3Prefix") == "ManifestFile":
        prefix, uris = _read_manifest(uri, storage)
    else:
        prefix, uris = uri, _list_prefix(uri, storage)
    base = _base_of(prefix)
    # A prefix naming a "folder" without its trailing slash (s3://b/input/sm_drivers, as SDK v3 sends it)
    # stages the folder's objects relative to the folder, like s3://b/input/sm_drivers/ would.
    # If that would put two objects at one path (s3://b/data matches data/data1/b.csv and data1/b.csv),
    # every object keeps its path below the prefix's parent instead, as SageMaker stages a key prefix.
    items = _relative_items(sorted(uris), prefix.rstrip("/") + "/", base)
    if items is None:
        items = _relative_items(sorted(uris), base, base)
    if items is None:
        raise StagingError(
            f'ClientError: Two objects of input data source "{uri}" would be written to one file'
        )
    if not items:
        raise StagingError(_no_objects_message(uri))
    return items


def _relative_items(uris: list[str], folder: str, base: str) -> list[_Item] | None:
    """Each object with its path in the channel (below ``folder``, else below ``base``); None if two
    objects would get the same path."""
    items: dict[str, _Item] = {}
    for object_uri in uris:
        if object_uri.startswith(folder):
            rel = object_uri[len(folder) :]
        elif object_uri.startswith(base):
            rel = object_uri[len(base) :]
        else:
            rel = object_uri.rpartition("/")[2]
        if not rel or rel.endswith("/"):
            continue  # a "folder" placeholder object, not data
        _check_rel(object_uri, rel)
        if rel in items:
            return None
        items[rel] = _Item(object_uri, rel)
    return list(items.values())


def _list_prefix(uri: str, storage: ObjectStore) -> list[str]:
    try:
        return [info.uri for info in storage.list_objects(uri)]
    except ObjectNotFound:
        return []  # a missing bucket reads the same as an empty prefix, as in SageMaker
    except StorageError as exc:
        raise StagingError(f"ClientError: Failed to list input data source {uri}: {exc}") from exc


def _read_manifest(uri: str, storage: ObjectStore) -> tuple[str, list[str]]:
    try:
        entries = json.loads(storage.read_bytes(uri))
    except ObjectNotFound:
        message = f'ClientError: Manifest file "{uri}" given in input data source was not found'
        raise StagingError(message) from None
    except StorageError as exc:
        raise StagingError(f'ClientError: Cannot read manifest file "{uri}": {exc}') from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise StagingError(f'ClientError: Manifest file "{uri}" is not valid JSON: {exc}') from None
    if (
        not isinstance(entries, list)
        or not entries
        or not isinstance(entries[0], dict)
        or not isinstance(entries[0].get("prefix"), str)
        or not all(isinstance(entry, str) for entry in entries[1:])
    ):
        raise StagingError(
            f'ClientError: Manifest file "{uri}" must be a JSON array [{{"prefix": "s3://bucket/prefix/"}}, '
            '"relative/key", ...]'
        )
    prefix: str = entries[0]["prefix"]
    return prefix, [prefix + entry for entry in entries[1:]]


def _base_of(prefix_uri: str) -> str:
    """The part of a prefix URI that object paths are relative to: everything up to its last '/'."""
    scheme, _, rest = prefix_uri.partition("://")
    if "/" not in rest:  # s3://bucket: relative to the bucket root
        return prefix_uri + "/"
    return f"{scheme}://{rest[: rest.rfind('/') + 1]}"


def _check_rel(uri: str, rel: str) -> None:
    parts = PurePosixPath(rel).parts
    if rel.startswith("/") or any(part in (".", "..") for part in parts):
        raise StagingError(f'ClientError: Object "{uri}" would be written outside its channel directory')


def _no_objects_message(uri: str) -> str:
    bucket = uri.partition("://")[2].partition("/")[0]
    return (
        f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure '
        "that the bucket exists in the selected region, that objects exist under that S3 prefix, and that "
        f'the role has "s3:ListBucket" permissions on bucket "{bucket}".'
    )


def _copy_all(items: Sequence[_Item], dest: Path, storage: ObjectStore) -> int:
    """Download every item; returns the bytes written. Network stores get a small thread pool."""
    if not items:
        return 0
    workers = min(storage.transfer_concurrency(items[0].uri), len(items))

    def copy(item: _Item) -> int:
        target = dest.joinpath(*item.rel.split("/"))
        try:
            storage.download_file(item.uri, target)
        except ObjectNotFound:
            raise StagingError(f'ClientError: Data download failed: object "{item.uri}" not found') from None
        except StorageError as exc:
            raise StagingError(f"ClientError: Data download failed: {exc}") from exc
        return target.stat().st_size

    if workers <= 1:
        return sum(copy(item) for item in items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stage") as pool:
        return sum(pool.map(copy, items))
