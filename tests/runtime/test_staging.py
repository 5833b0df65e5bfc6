"""Channel staging against every backend: layout, manifests, sharding, shuffling, SageMaker errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trainplane.runtime.staging import StagingError, stage_channel
from trainplane.storage import Storage, open_storage


class Source:
    """A storage and a writable base URI (``s3://bucket/`` or ``file:///dir/``)."""

    def __init__(self, kind: str, storage: Storage, base: str) -> None:
        self.kind, self.storage, self.base = kind, storage, base

    def put(self, *keys: str) -> None:
        for key in keys:
            self.storage.write_bytes(f"data of {key}\n".encode(), self.base + key)


def _source(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Source:
    if kind == "local":
        storage = open_storage(tmp_path / "s3", environ={})
        storage.ensure_bucket("b")
        return Source(kind, storage, "s3://b/")
    if kind == "boto3":
        endpoint, bucket = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")
        return Source(kind, open_storage(tmp_path, endpoint, environ={}), f"s3://{bucket}/")
    (tmp_path / "src").mkdir()
    return Source(kind, open_storage(tmp_path / "s3", environ={}), f"file://{tmp_path}/src/")


@pytest.fixture(params=["local", "boto3", "file"])
def src(request: pytest.FixtureRequest, tmp_path: Path) -> Source:
    return _source(request.param, request, tmp_path)


@pytest.fixture(params=["local", "boto3"])
def s3_src(request: pytest.FixtureRequest, tmp_path: Path) -> Source:
    return _source(request.param, request, tmp_path)


def channel(uri: str, **source: Any) -> dict[str, Any]:
    extra = {k: source.pop(k) for k in list(source) if k in ("ShuffleConfig", "InputMode")}
    s3 = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated", **source}
    return {"ChannelName": "train", "DataSource": {"S3DataSource": s3}, **extra}


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def stage(src: Source, spec: dict[str, Any], dest: Path, host: int = 0, hosts: int = 1) -> list[str]:
    stage_channel(spec, dest, src.storage, host_index=host, host_count=hosts)
    return files_under(dest)


def test_prefix_with_slash_copies_objects_relative_to_it(src: Source, tmp_path: Path) -> None:
    src.put("train/a.csv", "train/sub/x.csv", "validation/v.csv")
    staged = stage_channel(
        channel(src.base + "train/"), tmp_path / "ch", src.storage, host_index=0, host_count=1
    )
    assert files_under(tmp_path / "ch") == ["a.csv", "sub/x.csv"]
    assert (tmp_path / "ch" / "sub" / "x.csv").read_text() == "data of train/sub/x.csv\n"
    assert (staged.name, staged.path, staged.file_count) == ("train", tmp_path / "ch", 2)
    assert staged.total_bytes == len("data of train/a.csv\n") + len("data of train/sub/x.csv\n")


def test_key_prefix_matches_by_string_and_keeps_the_last_segment(s3_src: Source, tmp_path: Path) -> None:
    s3_src.put("train/data1.csv", "train/data2.csv", "train/other.csv")
    assert stage(s3_src, channel(s3_src.base + "train/data"), tmp_path / "ch") == ["data1.csv", "data2.csv"]


def test_a_folder_prefix_without_slash_stages_relative_to_the_folder(s3_src: Source, tmp_path: Path) -> None:
    # SageMaker SDK v3 uploads .../input/sm_drivers/sm_train.sh and passes .../input/sm_drivers.
    s3_src.put("input/sm_drivers/sm_train.sh", "input/sm_drivers/lib/util.py")
    staged = stage(s3_src, channel(s3_src.base + "input/sm_drivers"), tmp_path / "ch")
    assert staged == ["lib/util.py", "sm_train.sh"]


def test_objects_that_would_share_a_path_keep_their_paths_below_the_prefix_parent(
    s3_src: Source, tmp_path: Path
) -> None:
    # Both would be data1/b.csv relative to the folder: every object is staged as SageMaker stages a
    # key prefix, relative to its parent, and none is dropped.
    s3_src.put("train/data/data1/b.csv", "train/data1/b.csv", "train/data/x.csv")
    staged = stage(s3_src, channel(s3_src.base + "train/data"), tmp_path / "ch")
    assert staged == ["data/data1/b.csv", "data/x.csv", "data1/b.csv"]


def test_file_uri_of_a_single_file_stages_that_file(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("1,2\n")
    storage = open_storage(tmp_path / "s3", environ={})
    spec = channel(f"file://{tmp_path}/train.csv")
    stage_channel(spec, tmp_path / "ch", storage, host_index=0, host_count=1)
    assert files_under(tmp_path / "ch") == ["train.csv"]


def test_manifest_file_copies_the_listed_objects(src: Source, tmp_path: Path) -> None:
    src.put("p/a.csv", "p/sub/b.csv", "p/unlisted.csv")
    manifest = [{"prefix": src.base + "p/"}, "a.csv", "sub/b.csv"]
    src.storage.write_bytes(json.dumps(manifest).encode(), src.base + "m.json")
    spec = channel(src.base + "m.json", S3DataType="ManifestFile")
    assert stage(src, spec, tmp_path / "ch") == ["a.csv", "sub/b.csv"]


def test_manifest_entry_that_does_not_exist_is_a_client_error(src: Source, tmp_path: Path) -> None:
    manifest = [{"prefix": src.base + "p/"}, "missing.csv"]
    src.storage.write_bytes(json.dumps(manifest).encode(), src.base + "m.json")
    with pytest.raises(StagingError, match=r'^ClientError: Data download failed: object ".*missing.csv"'):
        stage(src, channel(src.base + "m.json", S3DataType="ManifestFile"), tmp_path / "ch")


@pytest.mark.parametrize("body", [b"not json", b'{"prefix": "s3://b/"}', b'["a.csv"]', b"[]"])
def test_malformed_manifest_is_a_client_error(src: Source, tmp_path: Path, body: bytes) -> None:
    src.storage.write_bytes(body, src.base + "m.json")
    with pytest.raises(StagingError, match=r"^ClientError: Manifest file"):
        stage(src, channel(src.base + "m.json", S3DataType="ManifestFile"), tmp_path / "ch")


def test_sharded_by_s3_key_gives_each_host_a_disjoint_slice(src: Source, tmp_path: Path) -> None:
    src.put(*[f"d/{i}.csv" for i in range(5)])
    spec = channel(src.base + "d/", S3DataDistributionType="ShardedByS3Key")
    host0 = stage(src, spec, tmp_path / "h0", host=0, hosts=2)
    host1 = stage(src, spec, tmp_path / "h1", host=1, hosts=2)
    assert host0 == ["0.csv", "2.csv", "4.csv"]
    assert host1 == ["1.csv", "3.csv"]


def test_more_hosts_than_objects_leaves_some_channels_empty(src: Source, tmp_path: Path) -> None:
    src.put("d/0.csv", "d/1.csv")
    spec = channel(src.base + "d/", S3DataDistributionType="ShardedByS3Key")
    staged = [stage(src, spec, tmp_path / f"h{i}", host=i, hosts=3) for i in range(3)]
    assert staged == [["0.csv"], ["1.csv"], []]
    assert (tmp_path / "h2").is_dir()


def test_fully_replicated_gives_every_host_everything(src: Source, tmp_path: Path) -> None:
    src.put("d/0.csv", "d/1.csv")
    for host in range(2):
        assert stage(src, channel(src.base + "d/"), tmp_path / f"h{host}", host, 2) == ["0.csv", "1.csv"]


def test_shuffle_seed_decides_the_sharding_deterministically(src: Source, tmp_path: Path) -> None:
    src.put(*[f"d/{i:02d}.csv" for i in range(12)])

    def shards(seed: int, run: str) -> list[list[str]]:
        spec = channel(src.base + "d/", S3DataDistributionType="ShardedByS3Key", ShuffleConfig={"Seed": seed})
        return [stage(src, spec, tmp_path / f"{run}-{seed}-{h}", h, 3) for h in range(3)]

    first = shards(7, "a")
    assert first == shards(7, "b")
    assert sorted(name for shard in first for name in shard) == [f"{i:02d}.csv" for i in range(12)]
    unshuffled = [[f"{i:02d}.csv" for i in range(h, 12, 3)] for h in range(3)]
    assert any(shards(seed, "c") != unshuffled for seed in (7, 8, 9))


def test_empty_prefix_fails_with_sagemakers_message(src: Source, tmp_path: Path) -> None:
    uri = src.base + "nothing/"
    with pytest.raises(StagingError) as raised:
        stage(src, channel(uri), tmp_path / "ch")
    assert str(raised.value).startswith(
        f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. '
        "Please ensure that the bucket exists in the selected region, that objects exist under that S3 prefix"
    )


def test_missing_bucket_reads_as_no_objects(s3_src: Source, tmp_path: Path) -> None:
    with pytest.raises(
        StagingError, match=r'^ClientError: No S3 objects found under S3 URL "s3://nobucket/x"'
    ):
        stage(s3_src, channel("s3://nobucket/x"), tmp_path / "ch")


def test_folder_placeholder_objects_are_skipped(s3_src: Source, tmp_path: Path) -> None:
    s3_src.put("train/a.csv")
    if s3_src.kind == "boto3":  # only a real S3 can hold a key ending in '/'
        s3_src.storage.backend(s3_src.base).client.put_object(  # type: ignore[attr-defined]
            Bucket=s3_src.base[5:-1], Key="train/sub/", Body=b""
        )
    assert stage(s3_src, channel(s3_src.base + "train/"), tmp_path / "ch") == ["a.csv"]


@pytest.mark.parametrize(
    ("spec", "what"),
    [
        (
            {"ChannelName": "train", "DataSource": {"FileSystemDataSource": {"FileSystemId": "fs-12345678"}}},
            "FileSystemDataSource",
        ),
        (channel("s3://b/x", S3DataType="AugmentedManifestFile"), "S3DataType AugmentedManifestFile"),
        (channel("s3://b/x", InputMode="Pipe"), "Pipe input mode"),
    ],
)
def test_unsupported_sources_fail_clearly(tmp_path: Path, spec: dict[str, Any], what: str) -> None:
    storage = open_storage(tmp_path, environ={})
    with pytest.raises(StagingError, match=rf"^ClientError: {what} is not supported by trainplane yet"):
        stage_channel(spec, tmp_path / "ch", storage, host_index=0, host_count=1)


def test_job_level_pipe_mode_is_rejected_unless_the_channel_overrides_it(src: Source, tmp_path: Path) -> None:
    src.put("d/a.csv")
    with pytest.raises(StagingError, match="Pipe input mode"):
        spec = channel(src.base + "d/")
        stage_channel(spec, tmp_path / "a", src.storage, host_index=0, host_count=1, input_mode="Pipe")
    spec = channel(src.base + "d/", InputMode="File")
    stage_channel(spec, tmp_path / "b", src.storage, host_index=0, host_count=1, input_mode="Pipe")
    assert files_under(tmp_path / "b") == ["a.csv"]


def test_host_index_outside_host_count_is_a_programming_error(src: Source, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="host_index"):
        stage_channel(channel(src.base), tmp_path, src.storage, host_index=2, host_count=2)


def test_object_keys_that_would_escape_the_channel_are_rejected(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    storage = open_storage(tmp_path, s3_endpoint, environ={})
    storage.backend("s3://x/").client.put_object(  # type: ignore[attr-defined]
        Bucket=s3_bucket, Key="train/../../escape.csv", Body=b"x"
    )
    with pytest.raises(StagingError, match="outside its channel directory"):
        stage_channel(
            channel(f"s3://{s3_bucket}/train/"), tmp_path / "ch", storage, host_index=0, host_count=1
        )
    assert not (tmp_path / "escape.csv").exists()
