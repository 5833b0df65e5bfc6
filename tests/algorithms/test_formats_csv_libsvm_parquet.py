"""The CSV, LIBSVM and Parquet readers, including malformed input."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trainplane.algorithms.formats import DataFormatError, parquet, read_channel
from trainplane.algorithms.formats.csv import read_csv_files, sniff_delimiter
from trainplane.algorithms.formats.libsvm import read_libsvm_files
from trainplane.algorithms.formats.parquet import read_parquet_bytes, read_parquet_files


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|", " "])
def test_csv_label_first_float32_c_ordered(tmp_path: Path, delimiter: str) -> None:
    path = _file(
        tmp_path, "a.csv", "\n".join(delimiter.join(r) for r in [["1", "0.5", "2"], ["0", "-1", "3e2"]])
    )
    assert sniff_delimiter(path) == delimiter
    data = read_csv_files([path], {})
    assert data.features.dtype == np.float32 and data.features.flags.c_contiguous
    np.testing.assert_array_equal(data.features, [[0.5, 2], [-1, 300]])
    np.testing.assert_array_equal(data.labels, [1, 0])
    assert data.weights is None


def test_csv_weights_and_multiple_files(tmp_path: Path) -> None:
    files = [_file(tmp_path, "a.csv", "1,2,10\n0,3,11\n"), _file(tmp_path, "b.csv", "1,4,12\n")]
    data = read_csv_files(files, {"csv_weights": "1"})
    np.testing.assert_array_equal(data.weights, [2, 3, 4])
    np.testing.assert_array_equal(data.features, [[10], [11], [12]])
    np.testing.assert_array_equal(data.labels, [1, 0, 1])


def test_csv_missing_feature_is_nan(tmp_path: Path) -> None:
    data = read_csv_files([_file(tmp_path, "a.csv", "1,,2\n0,1,2\n")], {})
    assert np.isnan(data.features[0, 0])


@pytest.mark.parametrize(
    ("text", "problem"),
    [("1,2,3\n0,4\n", "Expected 3 columns"), ("1,2,3\n0,abc,4\n", "abc"), ("label,f1\n1,2\n", "label")],
)
def test_csv_malformed_rows_name_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = _file(tmp_path, "bad.csv", text)
    with pytest.raises(DataFormatError, match=problem) as caught:
        read_csv_files([path], {})
    assert str(path) in str(caught.value)


def test_a_gzip_csv_in_file_mode_is_refused_by_name_not_misread(tmp_path: Path) -> None:
    plain = _file(tmp_path, "a.csv", "1,2\n")
    zipped = tmp_path / "b.csv.gz"
    zipped.write_bytes(gzip.compress(b"1,2,3\n0,4,5\n" * 10))
    with pytest.raises(DataFormatError, match=r"b\.csv\.gz is gzip-compressed: in File mode"):
        read_csv_files([plain, zipped], {})


def test_csv_rejects_label_size_and_missing_labels(tmp_path: Path) -> None:
    path = _file(tmp_path, "a.csv", "1,2\n,3\n")
    with pytest.raises(DataFormatError, match="label_size"):
        read_csv_files([path], {"label_size": "2"})
    with pytest.raises(DataFormatError, match="Missing label"):
        read_csv_files([path], {})


def test_read_channel_dispatches_on_content_type(tmp_path: Path) -> None:
    _file(tmp_path, "a.csv", "1,2\n")
    _file(tmp_path, "_SUCCESS", "")
    data = read_channel(tmp_path, "text/csv; label_size=1")
    assert data.num_rows == 1 and data.num_features == 1


def test_libsvm_weights_zero_based_csr(tmp_path: Path) -> None:
    path = _file(tmp_path, "a.libsvm", "1:0.5 0:1.5 3:2 # comment\n\n0:2 qid:3 1:-1\n")
    data = read_libsvm_files([path], {})
    assert data.features.format == "csr" and data.features.dtype == np.float32
    np.testing.assert_array_equal(data.features.toarray(), [[1.5, 0, 0, 2], [0, -1, 0, 0]])
    np.testing.assert_array_equal(data.labels, [1, 0])
    np.testing.assert_array_equal(data.weights, [0.5, 2])


def test_libsvm_without_weights(tmp_path: Path) -> None:
    data = read_libsvm_files([_file(tmp_path, "a", "1 0:1\n0 2:1\n")], {})
    assert data.weights is None and data.features.shape == (2, 3)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("x 0:1", "invalid label"),
        ("1 0-1", "invalid feature"),
        ("1 -2:1", "invalid feature"),
        ("1 a:b", "invalid feature"),
    ],
)
def test_libsvm_malformed_lines_name_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    path = _file(tmp_path, "bad.libsvm", "1 0:1\n" + line + "\n")
    with pytest.raises(DataFormatError, match=problem) as caught:
        read_libsvm_files([path], {})
    assert f"{path}, line 2" in str(caught.value)


def test_parquet_first_column_is_label(tmp_path: Path) -> None:
    table = pa.table({"y": [1, 0], "a": [0.5, None], "b": pa.array([1, 2], pa.int32())})
    pq.write_table(table, tmp_path / "a.parquet")
    pq.write_table(table, tmp_path / "b.parquet")
    data = read_parquet_files([tmp_path / "a.parquet", tmp_path / "b.parquet"], {})
    assert data.features.dtype == np.float32 and data.features.shape == (4, 2)
    np.testing.assert_array_equal(data.labels, [1, 0, 1, 0])
    assert np.isnan(data.features[1, 0]) and data.features[1, 1] == 2


def test_parquet_rejects_text_columns_and_corrupt_files(tmp_path: Path) -> None:
    pq.write_table(pa.table({"y": [1], "name": ["x"]}), tmp_path / "a.parquet")
    with pytest.raises(DataFormatError, match="non-numeric"):
        read_parquet_files([tmp_path / "a.parquet"], {})
    corrupt = _file(tmp_path, "c.parquet", "not parquet")
    with pytest.raises(DataFormatError, match=str(corrupt)):
        read_parquet_files([corrupt], {})


def test_parquet_rejects_mismatched_widths_a_lone_column_and_missing_labels(tmp_path: Path) -> None:
    pq.write_table(pa.table({"y": [1.0], "a": [2.0]}), tmp_path / "two.parquet")
    pq.write_table(pa.table({"y": [1.0], "a": [2.0], "b": [3.0]}), tmp_path / "three.parquet")
    with pytest.raises(DataFormatError, match=r"different numbers of feature columns: \[1, 2\]"):
        read_parquet_files([tmp_path / "two.parquet", tmp_path / "three.parquet"], {})
    pq.write_table(pa.table({"y": [1.0]}), tmp_path / "lone.parquet")
    with pytest.raises(DataFormatError, match="needs a label column and at least one feature column"):
        read_parquet_files([tmp_path / "lone.parquet"], {})
    pq.write_table(pa.table({"y": [1.0, None], "a": [2.0, 3.0]}), tmp_path / "nolabel.parquet")
    with pytest.raises(DataFormatError, match="missing label value"):
        read_parquet_files([tmp_path / "nolabel.parquet"], {})


def test_parquet_read_in_batches_matches_the_whole_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of 1024 rows (the floor): 2 files of 5000 and 3001 rows, several row groups, mixed column
    # types, and nulls that fall in later batches, all land in the right rows.
    monkeypatch.setattr(parquet, "BATCH_BYTES", 1)
    rng = np.random.default_rng(3)
    tables = []
    for rows in (5000, 3001):
        a = rng.normal(size=rows)
        b = rng.integers(-50, 50, size=rows).astype(np.int32)
        mask = rng.random(rows) < 0.05
        table = pa.table(
            {"y": rng.normal(size=rows), "a": pa.array(a, mask=mask), "b": b, "c": rng.random(rows) < 0.5}
        )
        pq.write_table(table, tmp_path / f"part-{rows}.parquet", row_group_size=1500)
        tables.append(table)
    files = [tmp_path / "part-5000.parquet", tmp_path / "part-3001.parquet"]
    data = read_parquet_files(files, {})
    whole = pa.concat_tables(tables)
    expected = np.column_stack(
        [whole.column(n).cast(pa.float32()).to_numpy() for n in ("a", "b", "c")]
    ).astype(np.float32)
    np.testing.assert_array_equal(data.features, expected)  # NaN where null, equal elsewhere
    np.testing.assert_array_equal(data.labels, whole.column("y").cast(pa.float32()).to_numpy())
    piped = read_parquet_bytes(files[1].read_bytes(), "train_0")
    np.testing.assert_array_equal(piped.features, expected[5000:])


def test_parquet_missing_label_in_a_later_batch_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parquet, "BATCH_BYTES", 1)
    labels = [1.0] * 3000 + [None] + [0.0] * 10
    pq.write_table(pa.table({"y": labels, "a": [2.0] * len(labels)}), tmp_path / "late.parquet")
    with pytest.raises(DataFormatError, match=r"late\.parquet: missing label value"):
        read_parquet_files([tmp_path / "late.parquet"], {})
