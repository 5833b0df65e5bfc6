"""Shared fixtures. Service fixtures (S3 endpoint, PostgreSQL) live in their own modules."""
