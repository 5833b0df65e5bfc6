"""Pipe-mode (stream) readers, the streaming CSV reader's edge cases, all-zero sparse RecordIO rows."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from trainplane.algorithms.formats import CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF, DataFormatError
from trainplane.algorithms.formats.csv import read_csv_files, read_csv_stream
from trainplane.algorithms.formats.pipe import read_pipe, read_stream, wait_for_fifo
from trainplane.algorithms.formats.recordio_protobuf import (
    read_recordio_protobuf_files,
    write_recordio_protobuf,
)

X = np.array([[0.5, 0.25], [0.0, 0.0], [1.5, -2.0]], dtype=np.float32)
Y = np.array([1.0, 0.0, 1.0], dtype=np.float32)
CSV_TEXT = "1,0.5,0.25\n0,0,0\n1,1.5,-2\n"


def test_csv_stream_matches_the_file_reader(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(CSV_TEXT)
    from_file = read_csv_files([tmp_path / "a.csv"], {})
    from_stream = read_csv_stream(io.BytesIO(CSV_TEXT.encode()), "a", {})
    np.testing.assert_array_equal(from_file.features, X)
    np.testing.assert_array_equal(from_stream.features, X)
    np.testing.assert_array_equal(from_stream.labels, Y)


def test_csv_reader_handles_a_missing_final_newline_and_several_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(CSV_TEXT)
    (tmp_path / "b.csv").write_text("0,7,8")
    data = read_csv_files([tmp_path / "a.csv", tmp_path / "b.csv"], {})
    assert data.features.shape == (4, 2) and data.features.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(data.labels, [1, 0, 1, 0])


def test_csv_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("1,2,3\n1,x,3\n")
    with pytest.raises(DataFormatError, match=r"bad\.csv.*x"):
        read_csv_files([tmp_path / "bad.csv"], {})
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataFormatError, match=r"empty \(.*empty\.csv\)"):
        read_csv_files([tmp_path / "empty.csv"], {})


@pytest.mark.parametrize("fmt", [CSV, RECORDIO_PROTOBUF, PARQUET])
def test_read_stream_reads_every_pipe_format(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "data"
    if fmt == CSV:
        path.write_text(CSV_TEXT)
    elif fmt == PARQUET:
        pq.write_table(pa.table({"y": Y, "a": X[:, 0], "b": X[:, 1]}), path)
    else:
        write_recordio_protobuf(path, X, Y)
    with path.open("rb") as stream:
        data = read_stream(stream, str(path), fmt, {})
    np.testing.assert_array_equal(data.features, X)
    np.testing.assert_array_equal(data.labels, Y)


def test_libsvm_has_no_pipe_reader(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"^Pipe mode not supported for LibSVM\.$"):
        read_stream(io.BytesIO(b"1 0:1\n"), "x", LIBSVM, {})
    with pytest.raises(DataFormatError, match=r"^Pipe mode not supported for LibSVM\.$"):
        read_pipe(tmp_path, "train", 0, "text/libsvm", default_format=CSV)


def test_read_pipe_waits_for_the_fifo_and_reads_it_to_the_end(tmp_path: Path) -> None:
    fifo = tmp_path / "train_3"

    def writer() -> None:
        os.mkfifo(fifo)  # appears only after the reader started polling
        with fifo.open("wb") as out:
            out.write(CSV_TEXT.encode())

    timer = threading.Timer(0.1, writer)
    timer.start()
    data = read_pipe(tmp_path, "train", 3, "text/csv", default_format=RECORDIO_PROTOBUF, timeout=10)
    timer.join()
    np.testing.assert_array_equal(data.features, X)


def test_a_fifo_that_never_appears_times_out_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=r"train_0 did not appear within 0\.1 seconds"):
        wait_for_fifo(tmp_path / "train_0", timeout=0.1)


def test_sparse_recordio_rows_without_any_value_are_all_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "sparse.rec"
    write_recordio_protobuf(path, sp.csr_matrix(X), Y)  # row 1 has no non-zero: no keys, no values
    data = read_recordio_protobuf_files([path], {})
    assert sp.issparse(data.features)
    np.testing.assert_array_equal(data.features.toarray(), X)
