"""Model packaging: S3 layout, multi-host merge, NONE compression, tar contents, against every backend."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from trainplane.runtime.packaging import PackagingError, package_artifacts, write_tar
from trainplane.storage import Storage, open_storage


@pytest.fixture(params=["local", "boto3", "file"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Storage, str]:
    """A storage and an S3OutputPath on it (with a trailing '/', which must be stripped)."""
    if request.param == "local":
        storage = open_storage(tmp_path / "s3", environ={})
        storage.ensure_bucket("out")
        return storage, "s3://out/models/"
    if request.param == "boto3":
        endpoint, bucket = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")
        return open_storage(tmp_path / "s3", endpoint, environ={}), f"s3://{bucket}/models/"
    return open_storage(tmp_path / "s3", environ={}), f"file://{tmp_path}/artifacts/models/"


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    root.mkdir(parents=True, exist_ok=True)
    return root


def tar_files(storage: Storage, uri: str) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(storage.read_bytes(uri)), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_model_and_output_tars_land_under_the_job_output_prefix(
    target: tuple[Storage, str], tmp_path: Path
) -> None:
    storage, output_path = target
    model = make_tree(tmp_path / "algo-1" / "model", {"xgboost-model": b"booster", "sub/meta.json": b"{}"})
    data = make_tree(tmp_path / "algo-1" / "output" / "data", {"eval.txt": b"auc 0.9"})
    result = package_artifacts(
        storage, model_dirs=[model], output_data_dirs=[data], s3_output_path=output_path, job_name="job-1"
    )
    prefix = output_path.rstrip("/") + "/job-1/output/"
    assert (result.model_uri, result.output_uri) == (prefix + "model.tar.gz", prefix + "output.tar.gz")
    assert tar_files(storage, result.model_uri) == {"xgboost-model": b"booster", "sub/meta.json": b"{}"}
    assert tar_files(storage, result.output_uri) == {"eval.txt": b"auc 0.9"}


def test_tar_members_are_plain_relative_names_and_extract_to_the_same_files(tmp_path: Path) -> None:
    files = {"model.bin": bytes(range(256)) * 100, "a/b/c.txt": b"deep", "a/empty.txt": b""}
    model = make_tree(tmp_path / "model", files)
    (model / "empty-dir").mkdir()
    write_tar([model], tmp_path / "model.tar.gz")
    with tarfile.open(tmp_path / "model.tar.gz", "r:gz") as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "extracted", filter="data")
    assert all(not n.startswith(("/", "./")) for n in names)
    assert set(names) == {"model.bin", "a", "a/b", "a/b/c.txt", "a/empty.txt", "empty-dir"}
    for rel, data in files.items():
        assert (tmp_path / "extracted" / rel).read_bytes() == data
    assert (tmp_path / "extracted" / "empty-dir").is_dir()


def test_all_hosts_model_dirs_merge_into_one_tar_first_host_winning_clashes(
    target: tuple[Storage, str], tmp_path: Path
) -> None:
    storage, output_path = target
    host1 = make_tree(tmp_path / "h1", {"model": b"from host 1", "rank-0.pt": b"r0"})
    host2 = make_tree(tmp_path / "h2", {"model": b"from host 2", "rank-1.pt": b"r1"})
    result = package_artifacts(
        storage, model_dirs=[host1, host2], output_data_dirs=[], s3_output_path=output_path, job_name="j"
    )
    assert tar_files(storage, result.model_uri) == {
        "model": b"from host 1",
        "rank-0.pt": b"r0",
        "rank-1.pt": b"r1",
    }


def test_compression_none_uploads_model_files_under_output_model(
    target: tuple[Storage, str], tmp_path: Path
) -> None:
    storage, output_path = target
    model = make_tree(tmp_path / "model", {"weights.bin": b"w" * 1000, "cfg/config.json": b"{}"})
    result = package_artifacts(
        storage,
        model_dirs=[model],
        output_data_dirs=[],
        s3_output_path=output_path,
        job_name="big",
        compression="NONE",
    )
    prefix = output_path.rstrip("/") + "/big/output/model/"
    assert result.model_uri == prefix
    assert [info.uri for info in storage.list_objects(prefix)] == [
        prefix + "cfg/config.json",
        prefix + "weights.bin",
    ]
    assert storage.read_bytes(prefix + "weights.bin") == b"w" * 1000
    assert storage.head(output_path.rstrip("/") + "/big/output/output.tar.gz") is not None


def test_empty_or_missing_dirs_still_produce_valid_empty_tars(
    target: tuple[Storage, str], tmp_path: Path
) -> None:
    storage, output_path = target
    (tmp_path / "empty").mkdir()
    result = package_artifacts(
        storage,
        model_dirs=[tmp_path / "empty"],
        output_data_dirs=[tmp_path / "does-not-exist"],
        s3_output_path=output_path,
        job_name="j",
    )
    assert tar_files(storage, result.model_uri) == {}
    assert tar_files(storage, result.output_uri) == {}


def test_temp_tars_are_removed_after_upload(tmp_path: Path) -> None:
    storage = open_storage(tmp_path / "s3", environ={})
    storage.ensure_bucket("out")
    model = make_tree(tmp_path / "model", {"m": b"1"})
    package_artifacts(
        storage,
        model_dirs=[model],
        output_data_dirs=[],
        s3_output_path="s3://out",
        job_name="j",
        work_dir=tmp_path / "work",
    )
    assert list((tmp_path / "work").iterdir()) == []


def test_upload_failure_is_a_client_error(tmp_path: Path) -> None:
    storage = open_storage(tmp_path / "s3", environ={})
    model = make_tree(tmp_path / "model", {"m": b"1"})
    with pytest.raises(PackagingError, match=r"^ClientError: Failed to upload .* s3://no-bucket/j/output/"):
        package_artifacts(
            storage, model_dirs=[model], output_data_dirs=[], s3_output_path="s3://no-bucket", job_name="j"
        )


def test_unknown_compression_type_is_rejected(tmp_path: Path) -> None:
    storage = open_storage(tmp_path / "s3", environ={})
    with pytest.raises(ValueError, match="GZIP or NONE"):
        package_artifacts(
            storage,
            model_dirs=[],
            output_data_dirs=[],
            s3_output_path="s3://b",
            job_name="j",
            compression="ZIP",
        )
