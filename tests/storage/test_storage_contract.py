"""One behaviour suite run against every backend: local-directory S3, boto3 + moto, and file://."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

import trainplane.storage
from trainplane.storage import ObjectNotFound, ObjectStore, S3Store, Storage, StorageError, open_storage


@dataclass
class Case:
    name: str
    storage: Storage
    base: str  # URI prefix ending in '/', under which a test may write freely

    def uri(self, key: str) -> str:
        return self.base + key


def _make_case(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Case:
    if kind == "local":
        storage = open_storage(tmp_path / "s3", environ={})
        storage.ensure_bucket("bucket")
        return Case("local", storage, "s3://bucket/")
    if kind == "boto3":
        bucket = request.getfixturevalue("s3_bucket")
        endpoint = request.getfixturevalue("s3_endpoint")
        return Case("boto3", open_storage(tmp_path / "unused", endpoint, environ={}), f"s3://{bucket}/")
    root = tmp_path / "files"
    root.mkdir()
    return Case("file", open_storage(tmp_path / "s3", environ={}), f"file://{root}/")


@pytest.fixture(params=["local", "boto3", "file"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Case:
    return _make_case(request.param, request, tmp_path)


@pytest.fixture(params=["local", "boto3"])
def s3_case(request: pytest.FixtureRequest, tmp_path: Path) -> Case:
    return _make_case(request.param, request, tmp_path)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_write_then_read_round_trips_bytes_with_size_and_md5_etag(case: Case) -> None:
    info = case.storage.write_bytes(b"hello world", case.uri("a/b.txt"))
    assert (info.uri, info.size, info.etag) == (case.uri("a/b.txt"), 11, md5(b"hello world"))
    assert case.storage.read_bytes(case.uri("a/b.txt")) == b"hello world"


def test_upload_then_download_round_trips_a_file(case: Case, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4000
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    info = case.storage.upload_file(src, case.uri("dir/obj.bin"))
    assert (info.size, info.etag) == (len(data), md5(data))
    dest = tmp_path / "out" / "nested" / "copy.bin"
    case.storage.download_file(case.uri("dir/obj.bin"), dest)
    assert dest.read_bytes() == data
    assert not [p for p in dest.parent.iterdir() if p.name != "copy.bin"]  # no temp files left behind


def test_head_reports_size_etag_and_mtime_and_none_when_missing(case: Case) -> None:
    case.storage.write_bytes(b"x" * 10, case.uri("h.bin"))
    info = case.storage.head(case.uri("h.bin"))
    assert info is not None
    assert (info.size, info.etag) == (10, md5(b"x" * 10))
    assert info.last_modified is not None
    assert case.storage.head(case.uri("missing.bin")) is None


def test_overwrite_replaces_the_object(case: Case) -> None:
    case.storage.write_bytes(b"old contents", case.uri("o.txt"))
    case.storage.write_bytes(b"new", case.uri("o.txt"))
    assert case.storage.read_bytes(case.uri("o.txt")) == b"new"


def test_reading_a_missing_object_raises_object_not_found_naming_the_uri(case: Case, tmp_path: Path) -> None:
    missing = case.uri("nope/missing.csv")
    with pytest.raises(ObjectNotFound, match=r"missing\.csv") as raised:
        case.storage.read_bytes(missing)
    assert raised.value.__cause__ is None  # no botocore traceback chained in
    with pytest.raises(ObjectNotFound):
        case.storage.download_file(missing, tmp_path / "dest.csv")
    assert not (tmp_path / "dest.csv").exists()


def test_delete_removes_and_is_idempotent(case: Case) -> None:
    case.storage.write_bytes(b"1", case.uri("d.txt"))
    case.storage.delete(case.uri("d.txt"))
    case.storage.delete(case.uri("d.txt"))
    assert case.storage.head(case.uri("d.txt")) is None


def test_list_objects_returns_everything_below_sorted_by_key(case: Case) -> None:
    for key in ["train/b.csv", "train/a.csv", "train/sub/c.csv", "other/x.csv"]:
        case.storage.write_bytes(key.encode(), case.uri(key))
    listed = case.storage.list_objects(case.uri("train/"))
    assert [info.uri for info in listed] == [
        case.uri("train/a.csv"),
        case.uri("train/b.csv"),
        case.uri("train/sub/c.csv"),
    ]
    assert [info.size for info in listed] == [11, 11, 15]


def test_list_objects_of_an_empty_prefix_is_empty(case: Case) -> None:
    assert case.storage.list_objects(case.uri("nothing-here/")) == []


def test_list_objects_uses_string_prefix_semantics_on_s3(s3_case: Case) -> None:
    for key in ["train/a.csv", "train2/b.csv", "trai.csv", "validation/c.csv"]:
        s3_case.storage.write_bytes(b"1", s3_case.uri(key))
    keys = [info.key for info in s3_case.storage.list_objects(s3_case.uri("train"))]
    assert keys == ["train/a.csv", "train2/b.csv"]
    assert [info.key for info in s3_case.storage.list_objects(s3_case.uri("train/a"))] == ["train/a.csv"]


def test_file_uri_of_a_single_file_lists_that_file(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("1,2\n")
    storage = open_storage(tmp_path / "s3", environ={})
    listed = storage.list_objects(f"file://{tmp_path}/data.csv")
    assert [(info.uri, info.size) for info in listed] == [(f"file://{tmp_path}/data.csv", 4)]


def test_missing_bucket_is_reported_as_not_found(s3_case: Case) -> None:
    with pytest.raises(ObjectNotFound, match="no-such-bucket-here"):
        s3_case.storage.list_objects("s3://no-such-bucket-here/prefix")
    with pytest.raises(ObjectNotFound):
        s3_case.storage.read_bytes("s3://no-such-bucket-here/key")
    with pytest.raises(ObjectNotFound, match="no-such-bucket-here"):
        s3_case.storage.write_bytes(b"x", "s3://no-such-bucket-here/key")


def test_ensure_bucket_creates_a_missing_bucket_and_is_idempotent(s3_case: Case) -> None:
    bucket = "created-" + s3_case.base[5:].strip("/")[-20:]
    s3_case.storage.ensure_bucket(bucket)
    s3_case.storage.ensure_bucket(bucket)
    s3_case.storage.write_bytes(b"ok", f"s3://{bucket}/k")
    assert s3_case.storage.read_bytes(f"s3://{bucket}/k") == b"ok"


@pytest.mark.parametrize("key", ["../escape.txt", "a/../../escape.txt", "a/./b.txt"])
def test_keys_that_escape_the_directory_tree_are_rejected(tmp_path: Path, key: str) -> None:
    storage = open_storage(tmp_path / "s3", environ={})
    storage.ensure_bucket("bucket")
    with pytest.raises(StorageError, match="segments are not allowed"):
        storage.write_bytes(b"x", f"s3://bucket/{key}")
    with pytest.raises(StorageError, match="segments are not allowed"):
        storage.write_bytes(b"x", f"file://{tmp_path}/{key}")
    assert not (tmp_path / "escape.txt").exists()


def test_s3_object_uri_must_name_an_object_not_a_prefix(s3_case: Case) -> None:
    with pytest.raises(StorageError, match="must name an object"):
        s3_case.storage.write_bytes(b"x", s3_case.uri("dir/"))


def test_local_temp_files_are_invisible_to_listing(tmp_path: Path) -> None:
    storage = open_storage(tmp_path / "s3", environ={})
    storage.ensure_bucket("bucket")
    (tmp_path / "s3" / "bucket" / ".trainplane-tmp-abc-x.csv").write_text("partial")
    storage.write_bytes(b"done", "s3://bucket/x.csv")
    assert [info.key for info in storage.list_objects("s3://bucket/")] == ["x.csv"]


def test_the_router_and_every_backend_satisfy_the_object_store_protocol(tmp_path: Path) -> None:
    storage = open_storage(tmp_path, environ={})
    for store in (storage, storage.s3, storage.files, S3Store("http://127.0.0.1:9", {})):
        assert isinstance(store, ObjectStore)


def test_public_names_are_exactly_all() -> None:
    public = {name for name in vars(trainplane.storage) if not name.startswith("_")}
    modules = {"base", "filesystem", "fsutil", "local_s3", "router", "s3", "uri"}
    typing_names = {"TYPE_CHECKING", "Any"}
    lazy = {"S3Store"}  # resolved on first access, so boto3 is imported only when used
    assert public - modules - typing_names | lazy == set(trainplane.storage.__all__)
    assert trainplane.storage.S3Store is S3Store


def test_importing_the_runtime_pulls_in_no_control_plane_or_boto3() -> None:
    import subprocess
    import sys

    code = (
        "import sys, trainplane.runtime.agent, trainplane.storage; "
        "print(sorted(m for m in ('boto3', 'scipy', 'sqlalchemy', 'alembic') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
