"""Persistent state: jobs, attempts, metrics, logs, tags (SQLAlchemy; SQLite or PostgreSQL)."""

from trainplane.store.engine import open_store
from trainplane.store.repository import Store

__all__ = ["Store", "open_store"]
