"""Shared fixtures. Service fixtures (S3 endpoint, PostgreSQL) live in their own modules."""

pytest_plugins = ["fixtures_s3", "fixtures_postgres"]
