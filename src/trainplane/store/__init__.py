"""Persistent state: jobs, attempts, metrics, logs, tags, tuning jobs (SQLAlchemy; SQLite or PostgreSQL)."""

from trainplane.store import tuning_tables as _tuning_tables  # noqa: F401  (registers the tables)
from trainplane.store.engine import open_store
from trainplane.store.repository import Store
from trainplane.store.tuning_repository import TuningStore

__all__ = ["Store", "TuningStore", "open_store"]
