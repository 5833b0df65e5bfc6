"""Script mode: the toolkit's argument rules, code installation, commands and the failure file."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from trainplane.runtime.paths import MLPaths
from trainplane.runtime.script_mode import (
    CodeArchiveError,
    UserEntry,
    container_command,
    failure_message,
    prepare_code,
    to_cmd_args,
    user_command,
    write_failure_file,
)


@pytest.fixture
def paths(tmp_path: Path) -> MLPaths:
    return MLPaths(tmp_path / "root").create()


def test_cmd_args_decode_json_sort_keys_and_use_python_str() -> None:
    hps = {"lr": "0.1", "do_eval": "true", "optimizer": '"adam"', "name": "raw text", "layers": "[1, 2]"}
    assert to_cmd_args(hps) == [
        "--do_eval", "True",
        "--layers", "[1, 2]",
        "--lr", "0.1",
        "--name", "raw text",
        "--optimizer", "adam",
    ]  # fmt: skip


def test_cmd_args_single_char_keys_and_dict_values() -> None:
    assert to_cmd_args({"k": "3", "opts": '{"b": 2, "a": "x"}', "flag": "false"}) == [
        "--flag", "False", "-k", "3", "--opts", "a=x,b=2",
    ]  # fmt: skip


def test_cmd_args_drop_reserved_sagemaker_and_tuning_keys() -> None:
    hps = {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": '"s3://b/k"',
        "sagemaker_distributed_dataparallel_enabled": "false",
        "_tuning_objective_metric": "validation:rmse",
        "epochs": "2",
    }
    assert to_cmd_args(hps) == ["--epochs", "2"]


def test_user_entry_from_json_encoded_and_raw_sdk_values() -> None:
    entry = UserEntry.from_hyperparameters(
        {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": '"s3://b/src.tar.gz"', "x": "1"}
    )
    assert entry == UserEntry("train.py", "s3://b/src.tar.gz", ("-x", "1"))
    assert entry.module_name == "train"
    assert UserEntry.from_hyperparameters({"sagemaker_program": "train.py"}) == UserEntry("train.py")
    assert UserEntry.from_hyperparameters({"epochs": "1"}) is None


def test_user_command_for_program_package_and_other_entry_points(paths: MLPaths) -> None:
    args = ("--lr", "0.1", "--name", "two words")
    assert user_command(UserEntry("train.py", args=args), paths, "py") == ["py", "train.py", *args]
    assert user_command(UserEntry("run.sh", args=args), paths, "py") == [
        "/bin/sh", "-c", "./run.sh --lr 0.1 --name 'two words'",
    ]  # fmt: skip
    (paths.code / "setup.py").write_text("")
    assert user_command(UserEntry("pkg.py", args=args), paths, "py") == ["py", "-m", "pkg", *args]


def make_tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)


def fetch_from(archive: Path, calls: list[str]):
    def fetch(uri: str, destination: Path) -> None:
        calls.append(uri)
        destination.write_bytes(archive.read_bytes())

    return fetch


def test_prepare_code_fetches_and_extracts_the_source_archive(paths: MLPaths, tmp_path: Path) -> None:
    archive = tmp_path / "sourcedir.tar.gz"
    make_tar(archive, {"train.py": b"print('hi')\n", "lib/util.py": b""}, {"link.py": "lib/util.py"})
    calls: list[str] = []
    prepare_code(UserEntry("train.py", "s3://b/sourcedir.tar.gz"), paths, fetch_from(archive, calls))
    assert calls == ["s3://b/sourcedir.tar.gz"]
    assert (paths.code / "train.py").read_text() == "print('hi')\n"
    assert (paths.code / "lib" / "util.py").exists() and (paths.code / "link.py").is_symlink()
    assert [p.name for p in paths.root.iterdir() if p.name.startswith(".code-")] == []


def test_prepare_code_keeps_an_already_populated_code_dir(paths: MLPaths, tmp_path: Path) -> None:
    (paths.code / "train.py").write_text("mine")
    calls: list[str] = []
    prepare_code(UserEntry("train.py", "s3://b/x.tar.gz"), paths, fetch_from(tmp_path / "none", calls))
    assert calls == [] and (paths.code / "train.py").read_text() == "mine"


@pytest.mark.parametrize(
    ("members", "links"),
    [
        ({"../evil.py": b"x"}, None),
        ({"/abs/evil.py": b"x"}, None),
        ({"a/../../evil.py": b"x"}, None),
        ({}, {"escape": "../../etc/passwd"}),
        ({}, {"abs-link": "/etc/passwd"}),
    ],
)
def test_prepare_code_rejects_path_traversal(paths: MLPaths, tmp_path: Path, members, links) -> None:
    archive = tmp_path / "evil.tar.gz"
    make_tar(archive, members, links)
    with pytest.raises(CodeArchiveError):
        prepare_code(UserEntry("train.py", "s3://b/evil.tar.gz"), paths, fetch_from(archive, []))
    assert not (tmp_path / "evil.py").exists() and not (paths.root / "evil.py").exists()


def test_prepare_code_rejects_a_file_that_is_not_a_tar(paths: MLPaths, tmp_path: Path) -> None:
    (tmp_path / "x").write_text("not a tar")
    with pytest.raises(CodeArchiveError):
        prepare_code(UserEntry("train.py", "s3://b/x"), paths, fetch_from(tmp_path / "x", []))


def test_failure_message_has_the_toolkit_format() -> None:
    message = failure_message(1, "ValueError: boom", ["/usr/bin/python3", "train.py", "--epochs", "2"])
    assert message == (
        'ExecuteUserScriptError:\nExitCode 1\nErrorMessage "ValueError: boom"\n'
        'Command "/usr/bin/python3 train.py --epochs 2"'
    )


def test_failure_file_is_written_only_when_absent(paths: MLPaths) -> None:
    assert write_failure_file(paths, "platform text") is True
    assert paths.failure_file.read_text() == "platform text"
    assert write_failure_file(paths, "second") is False
    assert paths.failure_file.read_text() == "platform text"


def test_user_written_failure_file_wins(paths: MLPaths) -> None:
    paths.failure_file.write_text("user reason")
    assert write_failure_file(paths, "ExecuteUserScriptError: ...") is False
    assert paths.failure_file.read_text() == "user reason"


def test_container_command_from_entrypoint_and_arguments() -> None:
    v3 = {
        "ContainerEntrypoint": ["/bin/bash"],
        "ContainerArguments": ["-c", "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh && ..."],
    }
    assert container_command(v3) == [
        "/bin/bash",
        "-c",
        "chmod +x /opt/ml/input/data/sm_drivers/sm_train.sh && ...",
    ]
    assert container_command({"ContainerEntrypoint": ["python", "t.py"]}) == ["python", "t.py"]
    assert container_command({"ContainerArguments": ["train"]}) is None
    assert container_command({"TrainingImage": "img"}) is None
