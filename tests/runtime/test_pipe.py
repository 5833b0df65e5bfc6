"""Pipe-mode feeder: FIFOs per epoch, early close ends an epoch, routing of Pipe channels; telling an
empty channel's FIFO from one with data without reading it."""

from __future__ import annotations

import gzip
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainplane.algorithms.formats import CSV
from trainplane.algorithms.formats.pipe import channel_has_data, fifo_has_data, read_pipe, wait_for_fifo
from trainplane.algorithms.formats.recordio_protobuf import iter_records
from trainplane.runtime import recordio
from trainplane.runtime.pipe import PipeChannels, PipeError, PipeFeeder, channel_mode

MAGIC_BYTES = recordio.MAGIC.to_bytes(4, "little")


@pytest.fixture
def feeder(tmp_path: Path) -> Iterator[PipeFeeder]:
    source = tmp_path / "staged" / "train"
    (source / "sub").mkdir(parents=True)
    (source / "a.csv").write_bytes(b"1,2\n")
    (source / "sub" / "b.csv").write_bytes(b"3,4\n" * 100_000)  # bigger than a pipe buffer
    feeder = PipeFeeder("train", source, tmp_path / "data")
    feeder.start()
    yield feeder
    feeder.stop()


def read_epoch(data_dir: Path, epoch: int) -> bytes:
    with wait_for_fifo(data_dir / f"train_{epoch}", timeout=10).open("rb") as stream:
        return stream.read()


def test_first_fifo_exists_before_anything_reads(feeder: PipeFeeder) -> None:
    assert stat.S_ISFIFO((feeder.data_dir / "train_0").stat().st_mode)
    assert not (feeder.data_dir / "train_1").exists()


def test_each_epoch_streams_every_object_in_key_order(feeder: PipeFeeder) -> None:
    expected = b"1,2\n" + b"3,4\n" * 100_000
    assert read_epoch(feeder.data_dir, 0) == expected
    assert read_epoch(feeder.data_dir, 1) == expected
    assert not (feeder.data_dir / "train_0").exists()


def test_closing_early_ends_the_epoch(feeder: PipeFeeder) -> None:
    with wait_for_fifo(feeder.data_dir / "train_0", timeout=10).open("rb") as stream:
        assert stream.read(4) == b"1,2\n"
    assert read_epoch(feeder.data_dir, 1).startswith(b"1,2\n3,4\n")


def test_stop_removes_the_waiting_fifo_and_ends_the_thread(feeder: PipeFeeder) -> None:
    read_epoch(feeder.data_dir, 0)
    wait_for_fifo(feeder.data_dir / "train_1", timeout=10)
    feeder.stop()
    assert feeder._thread is not None and not feeder._thread.is_alive()
    assert os.listdir(feeder.data_dir) == []


def test_pipe_channels_are_staged_privately_in_file_mode(tmp_path: Path) -> None:
    pipes = PipeChannels(tmp_path / "pipe", tmp_path / "data")
    piped = {"ChannelName": "train", "InputMode": "Pipe"}
    channel, dest = pipes.route(piped, tmp_path / "data" / "train", "File")
    assert channel["InputMode"] == "File" and dest == tmp_path / "pipe" / "train"
    inherited, dest = pipes.route({"ChannelName": "validation"}, tmp_path / "data" / "validation", "Pipe")
    assert inherited["InputMode"] == "File" and dest == tmp_path / "pipe" / "validation"
    plain = {"ChannelName": "test", "InputMode": "File"}
    assert pipes.route(plain, tmp_path / "data" / "test", "Pipe") == (plain, tmp_path / "data" / "test")
    assert [feeder.name for feeder in pipes.feeders] == ["train", "validation"]


def test_channel_mode_prefers_the_channel_then_the_job() -> None:
    assert channel_mode({"InputMode": "Pipe"}, "File") == "Pipe"
    assert channel_mode({}, "Pipe") == "Pipe"
    assert channel_mode({}, None) == "File"


def start_feeder(tmp_path: Path, files: dict[str, bytes]) -> PipeFeeder:
    source = tmp_path / "staged" / "train"
    source.mkdir(parents=True)  # staging creates the channel's directory even for an empty shard
    for name, content in files.items():
        (source / name).write_bytes(content)
    feeder = PipeFeeder("train", source, tmp_path / "data")
    feeder.start()
    return feeder


def test_the_fifo_of_an_empty_channel_has_no_data(tmp_path: Path) -> None:
    feeder = start_feeder(tmp_path, {})
    try:
        assert fifo_has_data(feeder.data_dir / "train_0", timeout=10) is False
    finally:
        feeder.stop()


def test_zero_byte_objects_are_no_data_in_file_mode_as_in_pipe_mode(tmp_path: Path) -> None:
    feeder = start_feeder(tmp_path, {"empty.csv": b""})
    try:
        assert channel_has_data(feeder.data_dir / "train", {"TrainingInputMode": "Pipe"}) is False
    finally:
        feeder.stop()
    channel = tmp_path / "file-mode" / "train"
    channel.mkdir(parents=True)
    (channel / "empty.csv").write_bytes(b"")
    assert channel_has_data(channel, {"TrainingInputMode": "File"}) is False
    (channel / "rows.csv").write_bytes(b"1,2\n")
    assert channel_has_data(channel, {"TrainingInputMode": "File"}) is True


def test_a_fifo_found_with_data_is_read_whole_even_after_the_platform_removed_it(tmp_path: Path) -> None:
    feeder = start_feeder(tmp_path, {"a.csv": b"1,2\n", "b.csv": b"0,3\n" * 100})  # fits a pipe buffer
    try:
        assert fifo_has_data(feeder.data_dir / "train_0", timeout=10) is True
        wait_for_fifo(feeder.data_dir / "train_1", timeout=10)  # epoch 0 written whole, train_0 removed
        assert not (feeder.data_dir / "train_0").exists()
        data = read_pipe(feeder.data_dir, "train", 0, "text/csv", default_format=CSV, timeout=1)
        assert data.num_rows == 101 and data.labels is not None and data.labels[0] == 1
    finally:
        feeder.stop()


def test_a_fifo_found_with_more_data_than_its_buffer_is_read_whole(feeder: PipeFeeder) -> None:
    assert fifo_has_data(feeder.data_dir / "train_0", timeout=10) is True
    data = read_pipe(feeder.data_dir, "train", 0, "text/csv", default_format=CSV, timeout=10)
    assert data.num_rows == 100_001


def staged_channel(tmp_path: Path, objects: dict[str, bytes]) -> Path:
    source = tmp_path / "staged" / "train"
    for key, data in objects.items():
        (source / key).parent.mkdir(parents=True, exist_ok=True)
        (source / key).write_bytes(data)
    return source


def fed_epoch(tmp_path: Path, objects: dict[str, bytes], **options: bool) -> bytes:
    feeder = PipeFeeder("train", staged_channel(tmp_path, objects), tmp_path / "data", **options)
    feeder.start()
    try:
        return read_epoch(feeder.data_dir, 0)
    finally:
        feeder.stop()


def test_a_gzip_channel_streams_each_object_decompressed(tmp_path: Path) -> None:
    objects = {"a.csv.gz": gzip.compress(b"1,2\n"), "b/c.gz": gzip.compress(b"3,4\n" * 50_000)}
    assert fed_epoch(tmp_path, objects, gzip_objects=True) == b"1,2\n" + b"3,4\n" * 50_000


def test_a_recordio_channel_wraps_each_object_in_one_record(tmp_path: Path) -> None:
    objects = {"a.bin": b"first", "b.bin": b"", "c.bin": b"x" * 4099}
    stream = fed_epoch(tmp_path, objects, record_io=True)
    assert list(iter_records(stream)) == [b"first", b"", b"x" * 4099]
    assert len(stream) % 4 == 0


def test_gzip_and_recordio_together_wrap_the_decompressed_objects(tmp_path: Path) -> None:
    objects = {"a.gz": gzip.compress(b"one"), "b.gz": gzip.compress(b"two!")}
    stream = fed_epoch(tmp_path, objects, gzip_objects=True, record_io=True)
    assert list(iter_records(stream)) == [b"one", b"two!"]


@pytest.mark.parametrize(
    ("payload", "parts"),
    [
        (b"abcd" + MAGIC_BYTES + b"efgh", 2),  # aligned: split into a first and a last part
        (MAGIC_BYTES + b"ab" + MAGIC_BYTES, 2),  # at the start; then unaligned, left in the payload
        (b"abcd" + MAGIC_BYTES + MAGIC_BYTES + b"e", 3),  # two in a row: an empty middle part
        (b"abc", 1),
    ],
)
def test_a_payload_holding_the_magic_word_is_split_so_readers_rejoin_it(payload: bytes, parts: int) -> None:
    framed = recordio.frame(payload)
    assert list(iter_records(framed)) == [payload]
    assert len(framed) % 4 == 0
    # Every aligned magic word of the stream is a part's header: none is left inside a payload.
    assert [framed[i : i + 4] for i in range(0, len(framed), 4)].count(MAGIC_BYTES) == parts


def test_an_object_that_is_not_gzip_fails_the_channel_before_the_algorithm_starts(tmp_path: Path) -> None:
    pipes = PipeChannels(tmp_path / "pipe", tmp_path / "data")
    pipes.route({"ChannelName": "train", "InputMode": "Pipe", "CompressionType": "Gzip"}, tmp_path, "File")
    (tmp_path / "pipe" / "train").mkdir(parents=True)
    (tmp_path / "pipe" / "train" / "plain.csv").write_bytes(b"1,2\n")
    with pytest.raises(PipeError, match=r'Object "plain\.csv" of channel "train" is not gzip data'):
        pipes.start()
    assert not (tmp_path / "data" / "train_0").exists()
