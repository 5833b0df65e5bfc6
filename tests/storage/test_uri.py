from __future__ import annotations

import pytest

from trainplane.storage import ParsedUri, StorageError, parse_uri


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("s3://bucket/a/b.csv", ParsedUri("s3", "bucket", "a/b.csv")),
        ("s3://bucket", ParsedUri("s3", "bucket", "")),
        ("s3://b/train", ParsedUri("s3", "b", "train")),
        ("s3://my.bucket-1/", ParsedUri("s3", "my.bucket-1", "")),
        ("file:///data/train", ParsedUri("file", "", "/data/train")),
        ("file://localhost/data/x.csv", ParsedUri("file", "", "/data/x.csv")),
    ],
)
def test_parse_uri_splits_scheme_bucket_and_key(uri: str, parsed: ParsedUri) -> None:
    assert parse_uri(uri) == parsed


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://bucket/key", "Unsupported storage URI"),
        ("/plain/path", "Unsupported storage URI"),
        ("s3://", "not a valid bucket name"),
        ("s3://../key", "not a valid bucket name"),
        ("s3://.hidden/key", "not a valid bucket name"),
        ("s3://a b/key", "not a valid bucket name"),
        ("file://relative/path", "expected file:///absolute/path"),
    ],
)
def test_bad_uris_raise_storage_error_with_the_reason(uri: str, reason: str) -> None:
    with pytest.raises(StorageError, match=reason):
        parse_uri(uri)
